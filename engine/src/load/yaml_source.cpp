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

namespace {

// Where the quoted scalar starting at `open` ends (the closing quote), or npos.
size_t closing_quote(std::string_view text, size_t open) {
  char q = text[open];
  for (size_t i = open + 1; i < text.size(); ++i) {
    if (q == '"' && text[i] == '\\') {
      ++i;  // an escape: the next character is not a closing quote
      continue;
    }
    if (text[i] != q) continue;
    if (q == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
      ++i;  // '' is a quote inside a single-quoted scalar
      continue;
    }
    return i;
  }
  return std::string_view::npos;
}

// yaml-cpp 0.7 accepts a quoted scalar that never closes and takes the rest
// of the file as its text, silently swallowing the steps after it. Every
// quoted scalar must have its closing quote.
bool check_quotes_closed(const YAML::Node& root, std::string_view text, const std::string& path,
                         Diagnostics& diags) {
  std::vector<YAML::Node> pending{root};
  size_t visited = 0;
  while (!pending.empty() && ++visited < 4'000'000) {
    YAML::Node node = pending.back();
    pending.pop_back();
    if (node.IsMap()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        pending.push_back(it->first);
        pending.push_back(it->second);
      }
    } else if (node.IsSequence()) {
      for (auto it = node.begin(); it != node.end(); ++it) pending.push_back(*it);
    } else if (node.IsScalar() && node.Tag() == "!") {
      YAML::Mark m = node.Mark();
      if (m.pos < 0 || size_t(m.pos) >= text.size()) continue;
      size_t open = size_t(m.pos);
      if (text[open] != '"' && text[open] != '\'') continue;
      if (closing_quote(text, open) == std::string_view::npos) {
        diags.error(path, Mark{m.line + 1, m.column + 1},
                    std::string("unterminated quoted string: the closing ") + text[open] +
                        " is missing, so the rest of the file would be part of it");
        return false;
      }
    }
  }
  return true;
}

}  // namespace

std::optional<YAML::Node> parse_yaml(std::string_view text, const std::string& path,
                                     Diagnostics& diags) {
  try {
    std::vector<YAML::Node> documents = YAML::LoadAll(std::string(text));
    if (documents.empty()) return YAML::Node();
    if (documents.size() > 1) {
      diags.error(path, {},
                  "file holds " + std::to_string(documents.size()) +
                      " YAML documents; a runbook is exactly one");
      return std::nullopt;
    }
    if (!check_quotes_closed(documents.front(), text, path, diags)) return std::nullopt;
    return documents.front();
  } catch (const YAML::DeepRecursion& e) {
    diags.error(
        path, Mark{e.mark.line + 1, e.mark.column + 1},
        "YAML is nested too deeply (more than " + std::to_string(e.depth() - 1) + " levels)");
  } catch (const YAML::ParserException& e) {
    Mark mark;
    if (!e.mark.is_null()) mark = Mark{e.mark.line + 1, e.mark.column + 1};
    diags.error(path, mark, "invalid YAML: " + e.msg);
  } catch (const YAML::Exception& e) {
    diags.error(path, {}, "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    diags.error(path, {}, std::string("cannot parse YAML: ") + e.what());
  }
  return std::nullopt;
}

}  // namespace runbook::load
