#include "nascent/data/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "nascent/core/error.h"
#include "nascent/data/file_bytes.h"

namespace nascent::data {
namespace {

std::string encode_utf8(char32_t c) {
  std::string s;
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else if (c < 0x800) {
    s += static_cast<char>(0xC0 | (c >> 6));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    s += static_cast<char>(0xE0 | (c >> 12));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (c >> 18));
    s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  }
  return s;
}

// Character -> token id, built from the training split.
class Vocabulary {
 public:
  explicit Vocabulary(const std::vector<const std::vector<char32_t>*>& texts) {
    std::vector<char32_t> chars;
    for (const auto* t : texts) chars.insert(chars.end(), t->begin(), t->end());
    std::sort(chars.begin(), chars.end());
    chars.erase(std::unique(chars.begin(), chars.end()), chars.end());
    names_ = {"<pad>", "<unk>"};
    for (char32_t c : chars) {
      id_[c] = static_cast<int64_t>(names_.size());
      names_.push_back(encode_utf8(c));
    }
  }
  int64_t id(char32_t c) const {
    auto it = id_.find(c);
    return it == id_.end() ? kUnknownToken : it->second;
  }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::map<char32_t, int64_t> id_;
  std::vector<std::string> names_;
};

// Non-overlapping windows of seq_len + 1 characters, sharing one character at each seam: input
// = the first seq_len, target = the last seq_len. At most `max` windows (0 = all).
Split windows(const std::vector<char32_t>& text, const Vocabulary& v, int64_t seq_len, int64_t max) {
  int64_t n = text.size() > 1 ? (static_cast<int64_t>(text.size()) - 1) / seq_len : 0;
  if (max > 0) n = std::min(n, max);
  std::vector<int64_t> ids(text.size());
  for (size_t i = 0; i < text.size(); ++i) ids[i] = v.id(text[i]);
  auto x = torch::empty({n, seq_len}, torch::kInt64), y = torch::empty({n, seq_len}, torch::kInt64);
  for (int64_t i = 0; i < n; ++i) {
    std::copy_n(ids.begin() + i * seq_len, seq_len, x[i].data_ptr<int64_t>());
    std::copy_n(ids.begin() + i * seq_len + 1, seq_len, y[i].data_ptr<int64_t>());
  }
  return {x, y};
}

TaskData load_lm(const TaskOptions& o) {
  const std::vector<char32_t> text = decode_utf8(read_file_bytes(o.path, "text file"), o.path);
  std::vector<char32_t> test;
  size_t rest = text.size();
  if (!o.test_path.empty()) {
    test = decode_utf8(read_file_bytes(o.test_path, "text file"), o.test_path);
  } else {
    rest = text.size() - static_cast<size_t>(o.test_fraction * static_cast<double>(text.size()));
    test.assign(text.begin() + static_cast<std::ptrdiff_t>(rest), text.end());
  }
  const size_t n_train = rest - static_cast<size_t>(o.val_fraction * static_cast<double>(rest));
  const std::vector<char32_t> train(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(n_train));
  const std::vector<char32_t> val(text.begin() + static_cast<std::ptrdiff_t>(n_train),
                                  text.begin() + static_cast<std::ptrdiff_t>(rest));
  const Vocabulary vocab({&train});
  int64_t max_val = 0, max_train = 0;
  if (o.limit > 0) {
    max_val = std::max<int64_t>(1, static_cast<int64_t>(o.val_fraction * static_cast<double>(o.limit) + 0.5));
    max_train = std::max<int64_t>(1, o.limit - max_val);
  }
  TaskData d;
  d.train = windows(train, vocab, o.seq_len, max_train);
  d.val = windows(val, vocab, o.seq_len, max_val);
  d.test = windows(test, vocab, o.seq_len, 0);
  const std::pair<const char*, const Split*> parts[] = {
      {"training", &d.train}, {"validation", &d.val}, {"test", &d.test}};
  for (const auto& [what, s] : parts)
    if (s->size() == 0)
      throw InputError(o.path, "task.seq_len",
                       fmt::format("the {} part of the text ({} characters in all) is shorter than seq_len + 1 = {}",
                                   what, text.size(), o.seq_len + 1));
  d.task.target = "next_token";
  d.task.num_classes = static_cast<int64_t>(vocab.names().size());
  d.vocabulary = vocab.names();
  return d;
}

struct Labelled {
  std::vector<std::string> labels;
  std::vector<std::vector<char32_t>> texts;
};

Labelled read_labelled(const std::string& path) {
  const std::string bytes = read_file_bytes(path, "text file");
  Labelled out;
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < bytes.size()) {
    size_t end = bytes.find('\n', pos);
    if (end == std::string::npos) end = bytes.size();
    std::string line = bytes.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos)
      throw InputError(path, fmt::format("line {}", line_no), "expected label<TAB>text (no tab found)");
    if (tab == 0) throw InputError(path, fmt::format("line {}, column 1", line_no), "empty label before the tab");
    out.labels.push_back(line.substr(0, tab));
    // Decoding the whole line makes errors point at the column within the line.
    const std::vector<char32_t> chars = decode_utf8(line, path, line_no);
    const auto text_start = std::find(chars.begin(), chars.end(), U'\t') + 1;
    out.texts.emplace_back(text_start, chars.end());
  }
  if (out.labels.empty()) throw InputError(path, "", "no examples (expected lines of label<TAB>text)");
  return out;
}

Split encode(const Labelled& l, const std::vector<int64_t>& idx, const Vocabulary& v,
             const std::map<std::string, int64_t>& class_of, int64_t seq_len, const std::string& path) {
  const int64_t n = static_cast<int64_t>(idx.size());
  auto x = torch::full({n, seq_len}, kPadToken, torch::kInt64);
  auto y = torch::empty({n}, torch::kInt64);
  for (int64_t i = 0; i < n; ++i) {
    const auto& t = l.texts[idx[i]];
    auto* row = x[i].data_ptr<int64_t>();
    for (int64_t k = 0; k < std::min<int64_t>(seq_len, static_cast<int64_t>(t.size())); ++k) row[k] = v.id(t[k]);
    auto it = class_of.find(l.labels[idx[i]]);
    if (it == class_of.end())
      throw InputError(path, "", fmt::format("label '{}' does not occur in the training file", l.labels[idx[i]]));
    y[i] = it->second;
  }
  return {x, y};
}

TaskData load_classify(const TaskOptions& o) {
  const Labelled all = read_labelled(o.path);
  const std::vector<std::string> names = distinct_labels(all.labels);
  if (names.size() < 2) throw InputError(o.path, "", "fewer than two distinct labels");
  std::map<std::string, int64_t> class_of;
  for (size_t i = 0; i < names.size(); ++i) class_of[names[i]] = static_cast<int64_t>(i);

  const int64_t n = static_cast<int64_t>(all.labels.size());
  const std::vector<int64_t> perm = split_permutation(n, static_cast<uint64_t>(o.split_seed));
  const int64_t n_test =
      o.test_path.empty() ? std::max<int64_t>(1, static_cast<int64_t>(o.test_fraction * static_cast<double>(n) + 0.5))
                          : 0;
  const auto [n_val, n_train] = val_train_sizes(n - n_test, o);
  const std::vector<int64_t> test_idx(perm.begin(), perm.begin() + n_test);
  const std::vector<int64_t> val_idx(perm.begin() + n_test, perm.begin() + n_test + n_val);
  const std::vector<int64_t> train_idx(perm.begin() + n_test + n_val, perm.begin() + n_test + n_val + n_train);
  std::vector<const std::vector<char32_t>*> train_texts;
  for (int64_t i : train_idx) train_texts.push_back(&all.texts[i]);
  const Vocabulary vocab(train_texts);

  TaskData d;
  d.train = encode(all, train_idx, vocab, class_of, o.seq_len, o.path);
  d.val = encode(all, val_idx, vocab, class_of, o.seq_len, o.path);
  if (!o.test_path.empty()) {
    const Labelled test = read_labelled(o.test_path);
    std::vector<int64_t> idx(test.labels.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
    d.test = encode(test, idx, vocab, class_of, o.seq_len, o.test_path);
  } else {
    d.test = encode(all, test_idx, vocab, class_of, o.seq_len, o.path);
  }
  d.task.target = "class";
  d.task.num_classes = static_cast<int64_t>(names.size());
  d.class_names = names;
  d.vocabulary = vocab.names();
  return d;
}

}  // namespace

std::vector<char32_t> decode_utf8(const std::string& bytes, const std::string& path, int64_t first_line) {
  std::vector<char32_t> out;
  out.reserve(bytes.size());
  int64_t line = first_line, column = 1;
  size_t i = 0;
  while (i < bytes.size()) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    char32_t c = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    bool ok = len > 0 && i + static_cast<size_t>(len) <= bytes.size();
    for (int k = 1; ok && k < len; ++k) {
      const auto cb = static_cast<unsigned char>(bytes[i + k]);
      ok = (cb & 0xC0) == 0x80;
      c = (c << 6) | (cb & 0x3F);
    }
    // Overlong forms and surrogates are invalid too.
    if (ok && ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
               (c >= 0xD800 && c <= 0xDFFF)))
      ok = false;
    if (!ok)
      throw InputError(path, fmt::format("line {}, column {}", line, column),
                       fmt::format("invalid UTF-8 (byte 0x{:02x}); text files must be UTF-8", b));
    out.push_back(c);
    i += static_cast<size_t>(len);
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return out;
}

TaskData load_text_task(const TaskOptions& o) {
  TaskData d = o.mode == "lm" ? load_lm(o) : load_classify(o);
  d.task.name = std::filesystem::path(o.path).filename().string();
  d.task.kind = "text";
  d.task.input_shape = {o.seq_len};
  d.task.vocab_size = static_cast<int64_t>(d.vocabulary.size());
  d.source = o.path;
  d.split_seed = static_cast<uint64_t>(o.split_seed);
  return d;
}

}  // namespace nascent::data
