// The backend's file types (PROTOCOL.md /sync/chunk `file_type`).
#pragma once

#include <optional>
#include <string_view>

namespace tsync::tracker {

enum class FileType {
  kTranscript,       // <session-id>.jsonl
  kAgent,            // agent-<id>.jsonl, old and 2.1.x layouts, and workflow agents
  kWorkflowJournal,  // subagents/workflows/<runId>/journal.jsonl
};

/// The wire name: "transcript", "agent", "workflow_journal".
std::string_view FileTypeName(FileType type);
std::optional<FileType> ParseFileType(std::string_view name);

}  // namespace tsync::tracker
