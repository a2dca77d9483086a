// Test helpers that write real image files from Fashion-MNIST pictures: PNG, JPEG, BMP, TIFF and
// 16-bit PNG through OpenCV, DICOM through DCMTK (as a scanner's files would be), for the
// image-folder reader and `nascent search --data` tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nascent::test {

// 28x28 gray Fashion-MNIST training picture number i (0..59999) and its label.
std::vector<uint8_t> fashion_picture(int64_t i, int64_t* label = nullptr);

// How a DICOM file stores the picture.
enum class DicomVariant {
  kMonochrome2,      // 8-bit MONOCHROME2, no window: the min..max rule
  kMonochrome1,      // 8-bit MONOCHROME1 holding the inverted picture (reads back as the picture)
  kRescaled16,       // 16-bit stored values with RescaleSlope 2, RescaleIntercept -1000 and a window
                     // that covers the picture's range
  kNoPixelData,      // every attribute but the pixel data
  kMultiFrame3,      // three frames; the middle one is the picture, the others black
  kJpegLossless,     // MONOCHROME2 compressed by DCMTK's JPEG encoder (lossless, process 14 SV1)
  kJpeg2000Claimed,  // encapsulated pixel data under the JPEG 2000 transfer syntax, which DCMTK
                     // cannot decode (the bytes are not a real codestream)
};

// Writes `pixels` (h x w gray) to path as `format`: png, jpeg, bmp, tiff, png16 (16-bit PNG,
// value * 257), or dicom (with `variant`).
void write_image(const std::string& path, const std::vector<uint8_t>& pixels, int h, int w, const std::string& format,
                 DicomVariant variant = DicomVariant::kMonochrome2);

// Writes an h x w PNG of one RGB colour.
void write_rgb_png(const std::string& path, int h, int w, uint8_t r, uint8_t g, uint8_t b);

// Writes Fashion-MNIST training pictures into root/<class name>/<n>.<ext>: for each (label,
// count), the first `count` pictures of that label from picture number `start` on. Class folder
// names are "c<label>". formats cycle over the files (e.g. {"png", "jpeg"}).
void write_class_folders(const std::string& root, const std::vector<std::pair<int64_t, int64_t>>& label_counts,
                         const std::vector<std::string>& formats, int64_t start = 0);

}  // namespace nascent::test
