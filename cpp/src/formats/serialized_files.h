#pragma once

// What every file source writes when it leaves the process (SourceSpec::Serialize,
// WithSplits): its listed files, schemas, and the split payloads that name files. The
// filesystem travels as its kind (local or S3) and is opened again in the receiving
// process with that process's session settings (S3 endpoint, credentials, budget).

#include <arrow/result.h>
#include <arrow/type_fwd.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/session_state.h"
#include "table/file_listing.h"
#include "plan/source_spec.h"

namespace sluice::io {

/// The files of `listed` with their sizes and base directories. NotImplemented for a
/// filesystem other than local or S3 (one only this process can reach).
arrow::Result<nlohmann::json> ListedFilesToJson(const ListedFiles& listed);
/// The files ListedFilesToJson wrote, on a filesystem of `session` (null: the default
/// session). Nothing is listed or opened again.
arrow::Result<ListedFiles> ListedFilesFromJson(const nlohmann::json& files,
                                               const std::shared_ptr<exec::SessionState>& session);

/// A source payload parsed as a JSON object of `kind`; Invalid naming `kind` otherwise.
arrow::Result<nlohmann::json> ParsePayload(const std::string& payload, const std::string& kind);

/// Splits of whole files: one per listed file, labelled and sized by it.
std::vector<plan::Split> WholeFileSplits(const ListedFiles& listed);
/// The listed files that `splits` (WholeFileSplits of `listed` or of a subset) name, in
/// split order. A split naming no listed file is Invalid.
arrow::Result<ListedFiles> FilesOfSplits(const ListedFiles& listed,
                                         const std::vector<plan::Split>& splits);

}  // namespace sluice::io
