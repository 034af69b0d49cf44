#include "sluice/listing.h"

#include "table/file_listing.h"

namespace sluice {

arrow::Result<std::vector<ListedDataFile>> ListDataFiles(const std::vector<std::string>& paths,
                                                         bool follow_symlinks,
                                                         const Session& session) {
  ARROW_ASSIGN_OR_RAISE(io::ListedFiles listed,
                        io::ListFiles(paths, {follow_symlinks, session.state()}));
  std::vector<ListedDataFile> files;
  files.reserve(listed.files.size());
  for (const auto& file : listed.files) {
    files.push_back(ListedDataFile{file.path(), file.info.size(), file.base_dir});
  }
  return files;
}

}  // namespace sluice
