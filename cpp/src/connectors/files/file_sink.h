#pragma once

#include <memory>
#include <string>

#include "plan/sink_spec.h"
#include "sluice/options.h"

namespace sluice::io {

/// The sink of write_parquet / write_csv / write_json: files of `format` (a name in the
/// format registry, formats/file_formats.h) under the directory `path`, one per task and
/// partition (rolled over at max_rows_per_file), under Hive `key=value/` directories when
/// partition columns are given.
///
/// Begin checks the options, prepares the catalog table when `options.table` is set
/// (catalog/table_commit.h: the table's location, partition columns, lock and
/// registration hooks) and opens a staging directory (table/commit_protocol.h); each task
/// stages its files there and returns their paths, rows and bytes; Commit names the files
/// in task order and publishes them with the manifest, then registers them in the catalog.
/// An aborted write removes the staging directory and leaves the target as it was.
arrow::Result<std::shared_ptr<const plan::SinkSpec>> MakeFileSink(const std::string& path,
                                                                  const std::string& format,
                                                                  const WriteOptions& options);

/// The sink that SinkSpec::Serialize wrote; damaged bytes are Invalid.
arrow::Result<std::shared_ptr<const plan::SinkSpec>> DeserializeSink(const plan::SerializedPart& part);

/// The task writer that SinkWrite::SerializeTaskWriter wrote (the file sink's: it stages
/// into the write's staging directory, opened with the settings of `ctx`'s session), its
/// task ids starting at `first_task_id` so that writers of other tasks never collide.
/// Damaged bytes are Invalid.
arrow::Result<std::shared_ptr<const exec::StreamOperator>> DeserializeTaskWriter(
    const plan::SerializedPart& part, exec::ExecContext* ctx, int64_t first_task_id);

}  // namespace sluice::io
