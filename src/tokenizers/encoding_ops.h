// Encoding helpers beyond those declared in components.h, shared by the post-processors.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tokenizers/components.h"

namespace mlhub::tok {

// Rust Encoding::set_sequence_id: sequence_ranges[sequence_id] = [0, len) on `enc` itself, not
// on its overflowing entries (components.h's set_sequence_id also covers those).
void set_sequence_id_shallow(Encoding& enc, size_t sequence_id);
// Rust Encoding::set_type_ids(vec![type_id; len]): `enc` itself only.
void set_type_ids_shallow(Encoding& enc, uint32_t type_id);

}  // namespace mlhub::tok
