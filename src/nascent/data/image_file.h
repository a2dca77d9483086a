// One image file -> 8-bit pixels: PNG, JPEG, BMP and TIFF through OpenCV's imgcodecs, DICOM
// through DCMTK (dicom.h). No torch here: the image-folder reader (image_folder.h) turns the
// decoded pixels into tensors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nascent::data {

// 8-bit pixels, row-major, channels interleaved (RGB order when channels == 3).
struct Image {
  int height = 0, width = 0, channels = 0;  // channels: 1 or 3
  std::vector<uint8_t> pixels;              // height * width * channels
  // True when a 3-channel image has a pixel whose channels differ (a gray picture saved as RGB
  // is not colour).
  bool is_colour() const;
};

// The kind of image a file holds, from its extension (case-insensitive) or, for DICOM files
// without one, the "DICM" marker after the 128-byte preamble. "" when it is not an image.
// kinds: "png", "jpeg", "bmp", "tiff", "dicom".
std::string image_kind(const std::string& path);

// Decodes a PNG, JPEG, BMP, TIFF or DICOM file. 16-bit images are stretched from their own
// minimum to their maximum (the rule DICOM files without a window follow); an alpha channel is
// dropped. Throws InputError naming the file when it is unreadable, truncated or not an image.
Image decode_image_file(const std::string& path);

// Shrinks (never enlarges) so that the longer side is at most `max_side`, keeping the aspect
// ratio (area averaging).
Image shrink_to(const Image& image, int max_side);

// The image on a size x size square: the longer side scaled to `size`, the shorter one centred
// and padded with black (nothing is cut off), then converted to `channels` (gray -> three equal
// channels; colour -> gray by ITU-R BT.601 luma). Pixels: [channels, size, size] planar.
std::vector<uint8_t> letterbox_planar(const Image& image, int size, int channels);

// A PNG file's bytes of planar 8-bit pixels [channels, height, width] (channels 1 or 3, RGB).
std::string encode_png(const uint8_t* planar, int channels, int height, int width);

}  // namespace nascent::data
