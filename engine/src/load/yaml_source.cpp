#include "load/yaml_source.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "runbook/load.hpp"

namespace runbook::load {

namespace {

std::string size_limit_message(uint64_t size) {
  return "file is " + std::to_string(size) + " bytes, over the limit of " +
         std::to_string(kMaxRunbookBytes) + " bytes (" +
         std::to_string(kMaxRunbookBytes / (size_t{1024} * 1024)) + " MiB)";
}

Mark position_of(std::string_view text, size_t offset) {
  Mark mark{1, 1};
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++mark.line;
      mark.column = 1;
    } else {
      ++mark.column;
    }
  }
  return mark;
}

}  // namespace

std::optional<std::string> read_source_file(const std::string& path, Diagnostics& diags) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    diags.error(path, {}, std::string("cannot read file: ") + std::strerror(errno));
    return std::nullopt;
  }
  if (S_ISDIR(st.st_mode)) {
    diags.error(path, {}, "is a directory, not a runbook file");
    return std::nullopt;
  }
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > kMaxRunbookBytes) {
    diags.error(path, {}, size_limit_message(static_cast<uint64_t>(st.st_size)));
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diags.error(path, {}, std::string("cannot read file: ") + std::strerror(errno));
    return std::nullopt;
  }
  // Read at most one byte past the limit: a pipe or a file that grew since
  // stat() must not make us read without bound.
  std::string text;
  std::vector<char> buffer(size_t{64} * 1024);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    text.append(buffer.data(), static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxRunbookBytes) {
      diags.error(path, {}, size_limit_message(text.size()) + " (or more)");
      return std::nullopt;
    }
  }
  if (in.bad()) {
    diags.error(path, {}, std::string("cannot read file: ") + std::strerror(errno));
    return std::nullopt;
  }
  return text;
}

bool check_source_text(std::string_view text, const std::string& path, Diagnostics& diags) {
  if (text.size() > kMaxRunbookBytes) {
    diags.error(path, {}, size_limit_message(text.size()));
    return false;
  }
  const size_t nul = text.find('\0');
  if (nul != std::string_view::npos) {
    diags.error(path, position_of(text, nul),
                "file contains a NUL byte: it looks binary, not like a YAML runbook");
    return false;
  }
  return true;
}

// Deeper than this, a document is refused: the loader walks it recursively.
constexpr int kMaxYamlDepth = 500;

std::optional<yaml::Node> parse_yaml(std::string_view text, const std::string& path,
                                     Diagnostics& diags) {
  std::vector<yaml::Node> documents;
  yaml::ParseError error;
  if (!yaml::parse(text, kMaxYamlDepth, &documents, &error)) {
    Mark mark;
    if (!error.mark.is_null()) mark = Mark{error.mark.line + 1, error.mark.column + 1};
    diags.error(path, mark, error.message);
    return std::nullopt;
  }
  if (documents.empty()) return yaml::Node();
  if (documents.size() > 1) {
    diags.error(path, {},
                "file holds " + std::to_string(documents.size()) +
                    " YAML documents; a runbook is exactly one");
    return std::nullopt;
  }
  return documents.front();
}

}  // namespace runbook::load
