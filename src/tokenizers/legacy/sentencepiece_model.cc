// Protobuf wire-format reader for sentencepiece_model.proto (proto2). Written by hand because
// the file is hostile input and we need only a dozen fields: every read is bounds-checked and
// every problem becomes Error(kCorruption) with the byte offset.
#include "tokenizers/legacy/sentencepiece_model.h"

#include <cstring>
#include <vector>
#include <string>

#include "mlhub/core.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok::legacy {
namespace {

enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// Groups are deprecated and never used by sentencepiece; they are skipped when they appear in
// unknown fields, up to this nesting depth.
constexpr int kMaxGroupDepth = 64;

// A cursor over one message's bytes. `base` is the offset of `data` in the whole file, so
// errors name absolute positions.
class WireReader {
 public:
  WireReader(std::string_view data, size_t base) : data_(data), base_(base) {}

  bool done() const { return pos_ >= data_.size(); }
  size_t offset() const { return base_ + pos_; }

  [[noreturn]] void fail(const std::string& what) const { fail_at(offset(), what); }
  [[noreturn]] static void fail_at(size_t offset, const std::string& what) {
    throw Error(StatusCode::kCorruption,
                "sentencepiece model: byte " + std::to_string(offset) + ": " + what);
  }

  uint64_t varint() {
    size_t start = offset();
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) fail_at(start, "truncated varint");
      uint8_t byte = static_cast<uint8_t>(data_[pos_++]);
      // The tenth byte may only carry the top bit of a 64-bit value.
      if (shift == 63 && byte > 1) fail_at(start, "varint longer than 64 bits");
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    fail_at(start, "varint longer than 10 bytes");
  }

  uint32_t fixed32() {
    if (data_.size() - pos_ < 4) fail("truncated 32-bit field");
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(data_[pos_ + i]);
    pos_ += 4;
    return v;
  }

  void skip_fixed64() {
    if (data_.size() - pos_ < 8) fail("truncated 64-bit field");
    pos_ += 8;
  }

  // Returns the payload of a length-delimited field and its absolute offset.
  std::string_view bytes(size_t* payload_offset) {
    size_t start = offset();
    uint64_t len = varint();
    if (len > data_.size() - pos_) {
      fail_at(start, "length " + std::to_string(len) + " runs past the end of its message (" +
                         std::to_string(data_.size() - pos_) + " bytes left)");
    }
    *payload_offset = offset();
    std::string_view out = data_.substr(pos_, static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return out;
  }

  // Reads a tag; returns false at the end of the message.
  bool tag(uint32_t* field, uint32_t* wire) {
    if (done()) return false;
    size_t start = offset();
    uint64_t t = varint();
    *wire = static_cast<uint32_t>(t & 7);
    uint64_t f = t >> 3;
    if (f == 0 || f > 0x1FFFFFFF) fail_at(start, "invalid field number " + std::to_string(f));
    if (*wire > kFixed32) fail_at(start, "invalid wire type " + std::to_string(*wire));
    *field = static_cast<uint32_t>(f);
    return true;
  }

  // Skips the value of an unknown field.
  void skip(uint32_t field, uint32_t wire, int depth = 0) {
    switch (wire) {
      case kVarint:
        varint();
        return;
      case kFixed64:
        skip_fixed64();
        return;
      case kFixed32:
        fixed32();
        return;
      case kLengthDelimited: {
        size_t ignored;
        bytes(&ignored);
        return;
      }
      case kStartGroup: {
        if (depth >= kMaxGroupDepth) fail("groups nested too deep");
        uint32_t f, w;
        while (tag(&f, &w)) {
          if (w == kEndGroup) {
            if (f != field) fail("end-group tag does not match its start-group");
            return;
          }
          skip(f, w, depth + 1);
        }
        fail("unterminated group");
      }
      default:  // kEndGroup with no open group
        fail("unexpected end-group tag");
    }
  }

 private:
  std::string_view data_;
  size_t base_;
  size_t pos_ = 0;
};

void expect_wire(const WireReader& r, size_t at, uint32_t field, uint32_t wire, uint32_t want) {
  if (wire != want) {
    WireReader::fail_at(at, "field " + std::to_string(field) + " has wire type " +
                                std::to_string(wire) + ", expected " + std::to_string(want));
  }
}

std::string checked_string(std::string_view s, size_t offset, const char* what) {
  if (auto bad = unicode::find_invalid_utf8(s)) {
    WireReader::fail_at(offset + *bad, std::string(what) + " is not valid UTF-8");
  }
  return std::string(s);
}

float as_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Each parse_* reads a sub-message into `out`, merging as protobuf does (scalars overwritten,
// repeated fields appended).

void parse_piece(std::string_view data, size_t base, SentencePiece& out) {
  WireReader r(data, base);
  uint32_t field, wire;
  while (true) {
    size_t at = r.offset();
    if (!r.tag(&field, &wire)) break;
    switch (field) {
      case 1: {
        expect_wire(r, at, field, wire, kLengthDelimited);
        size_t off;
        std::string_view s = r.bytes(&off);
        out.piece = checked_string(s, off, "piece");
        break;
      }
      case 2:
        expect_wire(r, at, field, wire, kFixed32);
        out.score = as_float(r.fixed32());
        break;
      case 3: {
        expect_wire(r, at, field, wire, kVarint);
        uint64_t v = r.varint();
        // proto2: an unknown enum value is kept as an unknown field; the field stays unset.
        if (v >= 1 && v <= 6) out.type = static_cast<PieceType>(v);
        break;
      }
      default:
        r.skip(field, wire);
    }
  }
}

void parse_trainer_spec(std::string_view data, size_t base, SpmTrainerSpec& out) {
  WireReader r(data, base);
  uint32_t field, wire;
  while (true) {
    size_t at = r.offset();
    if (!r.tag(&field, &wire)) break;
    auto int32_field = [&] {
      expect_wire(r, at, field, wire, kVarint);
      return static_cast<int32_t>(static_cast<uint32_t>(r.varint()));  // int32: low 32 bits
    };
    auto bool_field = [&] {
      expect_wire(r, at, field, wire, kVarint);
      return r.varint() != 0;
    };
    auto string_field = [&](const char* what) {
      expect_wire(r, at, field, wire, kLengthDelimited);
      size_t off;
      std::string_view s = r.bytes(&off);
      return checked_string(s, off, what);
    };
    switch (field) {
      case 3: {
        expect_wire(r, at, field, wire, kVarint);
        uint64_t v = r.varint();
        if (v >= 1 && v <= 4) out.model_type = static_cast<SpmModelType>(v);
        break;
      }
      case 4:
        out.vocab_size = int32_field();
        break;
      case 24:
        out.treat_whitespace_as_suffix = bool_field();
        break;
      case 25:
        out.split_digits = bool_field();
        break;
      case 35:
        out.byte_fallback = bool_field();
        break;
      case 40:
        out.unk_id = int32_field();
        break;
      case 41:
        out.bos_id = int32_field();
        break;
      case 42:
        out.eos_id = int32_field();
        break;
      case 43:
        out.pad_id = int32_field();
        break;
      case 45:
        out.unk_piece = string_field("trainer_spec.unk_piece");
        break;
      case 46:
        out.bos_piece = string_field("trainer_spec.bos_piece");
        break;
      case 47:
        out.eos_piece = string_field("trainer_spec.eos_piece");
        break;
      case 48:
        out.pad_piece = string_field("trainer_spec.pad_piece");
        break;
      default:
        r.skip(field, wire);
    }
  }
}

void parse_normalizer_spec(std::string_view data, size_t base, SpmNormalizerSpec& out) {
  WireReader r(data, base);
  uint32_t field, wire;
  while (true) {
    size_t at = r.offset();
    if (!r.tag(&field, &wire)) break;
    switch (field) {
      case 1: {
        expect_wire(r, at, field, wire, kLengthDelimited);
        size_t off;
        out.name = checked_string(r.bytes(&off), off, "normalizer_spec.name");
        break;
      }
      case 2: {
        expect_wire(r, at, field, wire, kLengthDelimited);
        size_t off;
        out.precompiled_charsmap = std::string(r.bytes(&off));  // bytes: any content
        break;
      }
      case 3:
      case 4:
      case 5: {
        expect_wire(r, at, field, wire, kVarint);
        bool v = r.varint() != 0;
        (field == 3   ? out.add_dummy_prefix
         : field == 4 ? out.remove_extra_whitespaces
                      : out.escape_whitespaces) = v;
        break;
      }
      default:
        r.skip(field, wire);
    }
  }
}

uint32_t le32(const unsigned char* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

}  // namespace

void check_precompiled_charsmap(std::string_view charsmap, std::string_view what) {
  if (charsmap.empty()) return;  // no charsmap: the identity normalizer
  auto bad = [&](const std::string& why) {
    throw Error(StatusCode::kCorruption, std::string(what) + ": precompiled_charsmap " + why);
  };
  if (charsmap.size() < 4) bad("is shorter than its header");
  const auto* p = reinterpret_cast<const unsigned char*>(charsmap.data());
  const uint32_t trie_bytes = le32(p);
  if (trie_bytes % 4 != 0 || trie_bytes > charsmap.size() - 4) bad("has a truncated trie");
  const size_t units = trie_bytes / 4;
  const std::string_view blob = charsmap.substr(4 + trie_bytes);
  if (units == 0) bad("has an empty trie");
  auto unit = [&](size_t i) { return le32(p + 4 + 4 * i); };
  // Darts-clone's unit fields, as the library reads them.
  auto offset = [](uint32_t u) { return static_cast<size_t>(u >> 10) << ((u & 0x200u) >> 6); };
  auto has_leaf = [](uint32_t u) { return ((u >> 8) & 1) != 0; };
  auto label = [](uint32_t u) { return u & (0x80000000u | 0xFFu); };
  // The library's prefix search starts at offset(unit 0) and, from a node whose base is b,
  // reads unit b ^ c for the next byte c (any of 256), then for a matching label moves to
  // b' = (b ^ c) ^ offset and reads the leaf value at b'. So every reachable base's whole
  // 256-unit block must lie inside the trie (darts-clone allocates whole blocks, so real
  // charsmaps always do), and every leaf value must start a NUL-terminated string in the blob.
  std::vector<bool> seen(units, false);
  std::vector<size_t> stack{offset(unit(0))};
  while (!stack.empty()) {
    const size_t base = stack.back();
    stack.pop_back();
    if ((base | 0xFFu) >= units) bad("has a node outside the trie");
    if (seen[base]) continue;
    seen[base] = true;
    for (uint32_t c = 0; c < 256; ++c) {
      const uint32_t u = unit(base ^ c);
      if (label(u) != c) continue;
      const size_t next = (base ^ c) ^ offset(u);
      if ((next | 0xFFu) >= units) bad("has a node outside the trie");
      if (has_leaf(u)) {
        const uint32_t value = unit(next) & 0x7FFFFFFFu;
        if (value >= blob.size() || blob.find('\0', value) == std::string_view::npos)
          bad("has a replacement outside its string blob");
      }
      stack.push_back(next);
    }
  }
}

SentencePieceModel parse_sentencepiece_model(std::string_view bytes) {
  SentencePieceModel model;
  WireReader r(bytes, 0);
  uint32_t field, wire;
  while (true) {
    size_t at = r.offset();
    if (!r.tag(&field, &wire)) break;
    if ((field >= 1 && field <= 3) || field == 5) {
      expect_wire(r, at, field, wire, kLengthDelimited);
      size_t off;
      std::string_view payload = r.bytes(&off);
      if (field == 1) {
        model.pieces.emplace_back();
        parse_piece(payload, off, model.pieces.back());
      } else if (field == 2) {
        parse_trainer_spec(payload, off, model.trainer_spec);
      } else if (field == 3) {
        parse_normalizer_spec(payload, off, model.normalizer_spec);
      } else {
        parse_normalizer_spec(payload, off, model.denormalizer_spec);
      }
    } else {
      r.skip(field, wire);
    }
  }
  return model;
}

}  // namespace mlhub::tok::legacy
