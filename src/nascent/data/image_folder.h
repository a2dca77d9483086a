// Folders of images (task.dataset: images): one sub-folder per class, its name the class name,
// images at any depth below it; optional train/ val/ test/ folders at the top, each laid out the
// same way. PNG, JPEG, BMP, TIFF and DICOM files (image_file.h, dicom.h) are decoded once into
// memory, brought to one square size and channel count, and split by class (stratified).
#pragma once

#include <string>
#include <vector>

#include "nascent/data/dataset.h"

namespace nascent::data {

// The image files of one folder layout, before decoding.
struct ImageFolderScan {
  std::vector<std::string> classes;  // sorted folder names: the class ids 0..n-1
  struct File {
    std::string path;
    int64_t label = 0;
  };
  std::vector<File> train, val, test;  // val and test are empty without val/ and test/ folders
  bool split_folders = false;          // the layout had train/ (and maybe val/, test/)
  int64_t ignored = 0;                 // files that are not images (README, .txt, ...)
};

// Finds the classes and their image files; throws InputError naming the folder when there is no
// class folder, only one, or a class with fewer than 2 training images.
ImageFolderScan scan_image_folder(const std::string& root);

// The side chosen when task.image_size is 0: the median of the images' longer sides, capped at
// kAutoImageSideCap (a size this CPU trains in reasonable time) and at least 8.
constexpr int kAutoImageSideCap = 64;
int auto_image_side(std::vector<int> longer_sides);

// Loads an image-folder task (dataset: images).
TaskData load_image_folder_task(const TaskOptions& options);

}  // namespace nascent::data
