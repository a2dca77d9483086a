#include "nascent/data/text.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "nascent/core/error.h"
#include "support/support.h"

namespace nascent::data {
namespace {

const std::string kLiterature = std::string(test::kFortunesDir) + "/literature";

std::string error_of(const TaskOptions& o) {
  try {
    load_task(o);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TaskOptions lm(const std::string& path, int64_t seq_len) {
  TaskOptions o;
  o.dataset = "text";
  o.path = path;
  o.mode = "lm";
  o.seq_len = seq_len;
  o.test_fraction = 0.1;
  return o;
}

// Fortunes of some categories as `category<TAB>fortune` lines (newlines and tabs as spaces).
std::string labelled_fortunes(const std::vector<std::string>& categories) {
  std::string out;
  for (const auto& c : categories) {
    std::stringstream text(test::read_file(std::string(test::kFortunesDir) + "/" + c));
    std::string line, fortune;
    while (std::getline(text, line)) {
      if (line == "%") {
        if (!fortune.empty()) out += c + "\t" + fortune + "\n";
        fortune.clear();
        continue;
      }
      for (char& ch : line)
        if (ch == '\t') ch = ' ';
      fortune += (fortune.empty() ? "" : " ") + line;
    }
    if (!fortune.empty()) out += c + "\t" + fortune + "\n";
  }
  return out;
}

TEST(TextReader, CharacterLanguageModelOnFortunes) {
  TaskData d = load_task(lm(kLiterature, 32));
  const std::string text = test::read_file(kLiterature);  // ASCII: one byte per character
  const int64_t n = static_cast<int64_t>(text.size());
  const int64_t train_chars = (n - n / 10) - (n - n / 10) / 10;
  EXPECT_EQ(d.train.size(), (train_chars - 1) / 32);
  EXPECT_EQ(d.task.kind, "text");
  EXPECT_EQ(d.task.target, "next_token");
  EXPECT_EQ(d.task.input_shape, (std::vector<int64_t>{32}));
  EXPECT_EQ(d.task.num_classes, d.task.vocab_size);
  EXPECT_EQ(d.train.x.sizes(), (std::vector<int64_t>{d.train.size(), 32}));
  EXPECT_EQ(d.train.y.sizes(), d.train.x.sizes());
  // The vocabulary turns the first window back into the file's first characters.
  std::string first;
  for (int64_t i = 0; i < 32; ++i) first += d.vocabulary.at(d.train.x[0][i].item<int64_t>());
  EXPECT_EQ(first, text.substr(0, 32));
  // Targets are the inputs shifted by one, and windows continue each other.
  EXPECT_TRUE(torch::equal(d.train.y[0].slice(0, 0, 31), d.train.x[0].slice(0, 1, 32)));
  EXPECT_EQ(d.train.y[0][31].item<int64_t>(), d.train.x[1][0].item<int64_t>());
  // Ids 0 and 1 are padding and unknown; the text's characters start at 2, in code-point order.
  EXPECT_EQ(d.vocabulary[0], "<pad>");
  EXPECT_EQ(d.vocabulary[1], "<unk>");
  EXPECT_EQ(d.vocabulary[2], "\t");
  EXPECT_GE(d.train.x.min().item<int64_t>(), 2);
  EXPECT_GT(d.val.size(), 10);
  EXPECT_GT(d.test.size(), 10);
  // limit keeps the validation share.
  TaskOptions small = lm(kLiterature, 32);
  small.limit = 100;
  TaskData s = load_task(small);
  EXPECT_EQ(s.val.size(), 10);
  EXPECT_EQ(s.train.size(), 90);
}

TEST(TextReader, LabelledLinesForClassification) {
  test::TempDir dir;
  TaskOptions o;
  o.dataset = "text";
  o.mode = "classify";
  o.path = dir.file("fortunes.tsv");
  o.seq_len = 48;
  test::write_file(o.path, labelled_fortunes({"startrek", "literature"}));
  TaskData d = load_task(o);
  EXPECT_EQ(d.task.target, "class");
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"literature", "startrek"}));
  EXPECT_EQ(d.task.num_classes, 2);
  // 262 literature and 227 Star Trek fortunes: 20% test, 10% of the rest validation.
  EXPECT_EQ(d.train.size() + d.val.size() + d.test.size(), 262 + 227);
  EXPECT_EQ(d.test.size(), 98);
  EXPECT_EQ(d.train.x.sizes(), (std::vector<int64_t>{d.train.size(), 48}));
  // Short fortunes are padded with id 0, and padding only ever follows text.
  auto pad = d.train.x.eq(kPadToken);
  EXPECT_GT(pad.sum().item<int64_t>(), 0);
  EXPECT_TRUE(torch::equal(std::get<0>(pad.to(torch::kInt64).cummax(1)), pad.to(torch::kInt64)));
}

TEST(TextReader, BadTextIsNamedByLineAndColumn) {
  test::TempDir dir;
  TaskOptions o = lm(dir.file("t.txt"), 4);
  test::write_file(o.path, "hello\nwo\xffrld and more text to cut into windows\n");
  EXPECT_EQ(error_of(o), o.path + ": line 2, column 3: invalid UTF-8 (byte 0xff); text files must be UTF-8");
  test::write_file(o.path, "short");
  EXPECT_EQ(error_of(o), o.path +
                             ": task.seq_len: the validation part of the text (5 characters in all) is shorter than "
                             "seq_len + 1 = 5");
  o.mode = "classify";
  test::write_file(o.path, "a\tone\nb two\n");
  EXPECT_EQ(error_of(o), o.path + ": line 2: expected label<TAB>text (no tab found)");
  test::write_file(o.path, "a\tone\n\tno label\n");
  EXPECT_EQ(error_of(o), o.path + ": line 2, column 1: empty label before the tab");
  test::write_file(o.path, "a\tone\nb\tt\xc3\n");
  EXPECT_EQ(error_of(o), o.path + ": line 2, column 4: invalid UTF-8 (byte 0xc3); text files must be UTF-8");
  // Multi-byte characters are one token each.
  EXPECT_EQ(decode_utf8("a\xc3\xa9z", "x").size(), 3u);
}

}  // namespace
}  // namespace nascent::data
