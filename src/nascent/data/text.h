// Plain text for sequence tasks (`task.dataset: text`), character-level. Mode `lm`: the file is
// one running text, cut into sequences of seq_len characters whose targets are the next
// characters (train, validation and test are consecutive stretches, so no sequence leaks into
// another split). Mode `classify`: one example per line, `label<TAB>text`. The vocabulary is
// the characters of the training split; id 0 is padding and id 1 stands for unseen characters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nascent/data/dataset.h"

namespace nascent::data {

constexpr int64_t kPadToken = 0;
constexpr int64_t kUnknownToken = 1;

// UTF-8 text -> Unicode code points. Throws InputError(path, "line L, column C", ...) at the
// first invalid byte sequence.
std::vector<char32_t> decode_utf8(const std::string& bytes, const std::string& path, int64_t first_line = 1);

// Reads o.path (and o.test_path). Task kind "text", input_shape [seq_len], vocab_size = the
// characters of the training split + 2; lm: target next_token with num_classes = vocab_size;
// classify: target class with one class per distinct label.
TaskData load_text_task(const TaskOptions& o);

}  // namespace nascent::data
