// mlhub server: `mlhub serve`, the Hugging Face Hub compatible hub (docs/hub.md), and the
// administration of its data folder (users, organizations, tokens, inference plans).
//
// A data folder holds everything: hub.sqlite (MetadataStore), repos/ (one bare git repository
// per hub repo), blobs/ (LFS objects by sha256) and admin.token (written once, mode 0600).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlhub/core.h"
#include "mlhub/store.h"

namespace mlhub::server {

struct ServeOptions {
  std::filesystem::path data_dir;
  std::string host = "127.0.0.1";
  int port = 8080;                // 0 = any free port (printed)
  size_t max_connections = 512;
  bool quiet = false;             // no request log
  // What preupload answers huggingface_hub >= 1.20 (which sends "lfs" files through Xet when
  // hf_xet is installed, and this hub has no Xet storage yet): "regular" (default: the bytes
  // come inside the commit, so the newest clients work as installed) or "lfs" (decide normally;
  // for users who set HF_HUB_DISABLE_XET=1, who then upload through the LFS batch API).
  std::string xet_fallback = "regular";

  // The inference API (docs/inference.md) on the same port.
  bool inference = true;            // --no-inference: the hub alone
  bool inference_only = false;      // --inference-only: no hub routes (a separate inference fleet)
  std::string remote_hub;           // --hub URL: models and tokens from that hub (with inference_only)
  uint64_t inference_memory_bytes = 0;  // models' weights at most; 0 = half the machine's memory
  bool allow_anonymous_inference = false;
  std::string default_plan = "free";
  size_t max_queued_requests = 256;  // per model
  size_t max_batch_tokens = 16384;   // encoder batches
  size_t max_running_sequences = 16; // generation batch
  double max_wait_seconds = 30;      // generation: refuse (429) a request estimated to wait longer
};

// Opens (creating on first start) the data folder. On first start creates the user `admin`
// with a write token, writes it to data_dir/admin.token (mode 0600) and returns it; returns ""
// when the folder was already initialised.
Result<std::string> init_data_dir(const std::filesystem::path& data_dir);

// Runs the hub until SIGINT or SIGTERM. Prints "mlhub serve: listening on http://host:port" on
// stdout once it accepts connections. Returns the process exit status.
int serve(const ServeOptions& options);

// Administration (safe while a server runs on the same folder).
Status create_user(const std::filesystem::path& data_dir, const std::string& name,
                   const std::string& email, const std::string& fullname);
// Returns the new token's plaintext.
Result<std::string> create_token(const std::filesystem::path& data_dir, const std::string& user,
                                 const std::string& role, const std::string& token_name);
// members: "user" or "user:role" (role read|write|admin, default write).
Status create_org(const std::filesystem::path& data_dir, const std::string& name,
                  const std::vector<std::string>& members);

// Inference plans (`mlhub plan`; docs/inference.md, "Metering and quotas"). A running server
// sees a change within seconds.
struct PlanLimits {  // unset = keep the plan's value (a new plan starts with 0 = unlimited)
  std::optional<int64_t> requests_per_minute;
  std::optional<int64_t> monthly_characters;
  std::optional<int64_t> monthly_tokens;
  std::optional<std::string> max_model_size;  // "500MB", "1.5GB", "2GiB", "0" (parse_byte_size)
};
// Creates the plan `name` or updates the limits given; returns the plan as stored.
// kInvalidArgument: bad name, negative limit or unreadable size.
Result<store::Plan> put_plan(const std::filesystem::path& data_dir, const std::string& name,
                             const PlanLimits& limits);
// Assigns `plan` to the user or org `account`; "" removes the assignment. Returns the plan the
// account had before ("" for none). kNotFound: unknown plan or account.
Result<std::string> assign_plan(const std::filesystem::path& data_dir, const std::string& plan,
                                const std::string& account);
// The plans, sorted by name.
Result<std::vector<store::Plan>> list_plans(const std::filesystem::path& data_dir);

// A size with an optional unit: "123" (bytes), "500MB", "1.5 GB", "500M" (decimal: k, M, G, T,
// as the Hub shows sizes) or "2GiB", "512Ki" (binary). Case-insensitive. kInvalidArgument with
// the reason otherwise (negative, no digits, unknown unit, above 2^63).
Result<uint64_t> parse_byte_size(std::string_view text);
// 500000000 -> "500 MB", 1234567890 -> "1.2 GB", 999 -> "999 B" (decimal units, one decimal
// below 10 of a unit).
std::string format_byte_size(uint64_t bytes);

}  // namespace mlhub::server
