// mlhub server: `mlhub serve`, the Hugging Face Hub compatible hub (docs/hub.md), and the
// administration of its data folder (users, organizations, tokens).
//
// A data folder holds everything: hub.sqlite (MetadataStore), repos/ (one bare git repository
// per hub repo), blobs/ (LFS objects by sha256) and admin.token (written once, mode 0600).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "mlhub/core.h"

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

}  // namespace mlhub::server
