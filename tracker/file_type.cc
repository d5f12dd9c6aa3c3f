#include "tracker/file_type.h"

namespace tsync::tracker {

std::string_view FileTypeName(FileType type) {
  switch (type) {
    case FileType::kTranscript: return "transcript";
    case FileType::kAgent: return "agent";
    case FileType::kWorkflowJournal: return "workflow_journal";
  }
  return "transcript";
}

std::optional<FileType> ParseFileType(std::string_view name) {
  if (name == "transcript") return FileType::kTranscript;
  if (name == "agent") return FileType::kAgent;
  if (name == "workflow_journal") return FileType::kWorkflowJournal;
  return std::nullopt;
}

}  // namespace tsync::tracker
