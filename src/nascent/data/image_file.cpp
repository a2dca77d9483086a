#include "nascent/data/image_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "nascent/core/error.h"
#include "nascent/data/dicom.h"

namespace nascent::data {
namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

bool has_dicom_marker(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char buf[132] = {};
  if (!in.read(buf, sizeof buf)) return false;
  return std::string(buf + 128, 4) == "DICM";
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "", "cannot open the image file");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A JPEG ends with the EOI marker (FF D9); libjpeg only warns about a missing end and returns
// gray rows in place of the lost ones, so truncation is checked here. Some writers pad the
// file after EOI with zeros, which is allowed.
bool jpeg_is_complete(const std::string& bytes) {
  size_t end = bytes.size();
  while (end > 0 && bytes[end - 1] == '\0') --end;
  return end >= 2 && static_cast<unsigned char>(bytes[end - 2]) == 0xFF &&
         static_cast<unsigned char>(bytes[end - 1]) == 0xD9;
}

// A PNG ends with its IEND chunk (length 0, "IEND", CRC); libpng would print its own complaint
// about a cut-off file on stderr.
bool png_is_complete(const std::string& bytes) {
  return bytes.size() >= 12 && bytes.compare(bytes.size() - 8, 4, "IEND") == 0;
}

// 16-bit (or wider) -> 8-bit: each image from its own minimum to its maximum.
cv::Mat to_8bit(const cv::Mat& m) {
  if (m.depth() == CV_8U) return m;
  double lo = 0, hi = 0;
  cv::minMaxLoc(m.reshape(1), &lo, &hi);
  cv::Mat out;
  const double scale = hi > lo ? 255.0 / (hi - lo) : 0.0;
  m.convertTo(out, CV_8U, scale, -lo * scale);
  return out;
}

Image from_mat(const cv::Mat& decoded) {
  cv::Mat m = to_8bit(decoded);
  if (m.channels() == 4)
    cv::cvtColor(m, m, cv::COLOR_BGRA2RGB);
  else if (m.channels() == 3)
    cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  else if (m.channels() == 2)
    cv::extractChannel(m, m, 0);  // gray + alpha
  if (!m.isContinuous()) m = m.clone();
  Image img;
  img.height = m.rows;
  img.width = m.cols;
  img.channels = m.channels();
  img.pixels.assign(m.data, m.data + m.total() * m.elemSize());
  return img;
}

cv::Mat as_mat(const Image& img) {
  return cv::Mat(img.height, img.width, img.channels == 3 ? CV_8UC3 : CV_8UC1, const_cast<uint8_t*>(img.pixels.data()));
}

}  // namespace

bool Image::is_colour() const {
  if (channels != 3) return false;
  for (size_t i = 0; i + 2 < pixels.size(); i += 3)
    if (pixels[i] != pixels[i + 1] || pixels[i] != pixels[i + 2]) return true;
  return false;
}

std::string image_kind(const std::string& path) {
  const std::string ext = lower_extension(path);
  if (ext == ".png") return "png";
  if (ext == ".jpg" || ext == ".jpeg") return "jpeg";
  if (ext == ".bmp") return "bmp";
  if (ext == ".tif" || ext == ".tiff") return "tiff";
  if (ext == ".dcm" || ext == ".dicom") return "dicom";
  if (ext.empty() && has_dicom_marker(path)) return "dicom";
  return "";
}

Image decode_image_file(const std::string& path) {
  const std::string kind = image_kind(path);
  if (kind == "dicom") return decode_dicom_file(path);
  if (kind.empty()) throw InputError(path, "", "not a PNG, JPEG, BMP, TIFF or DICOM file");
  const std::string bytes = read_all(path);
  if (bytes.empty()) throw InputError(path, "", "the image file is empty");
  if (kind == "jpeg" && !jpeg_is_complete(bytes))
    throw InputError(path, "", "the JPEG file is truncated (no end-of-image marker)");
  if (kind == "png" && !png_is_complete(bytes))
    throw InputError(path, "", "the PNG file is truncated or damaged (no IEND chunk at its end)");
  // OpenCV reports decoder trouble on stderr as well; the error below says it in one line.
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  cv::Mat m;
  try {
    m = cv::imdecode(raw, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw InputError(path, "", fmt::format("cannot decode the {} image ({})", kind, e.err));
  }
  if (m.empty() || m.rows < 1 || m.cols < 1)
    throw InputError(path, "",
                     fmt::format("cannot decode the {} image (damaged, truncated or an unsupported variant)", kind));
  if (m.dims != 2) throw InputError(path, "", "is not a two-dimensional image");
  return from_mat(m);
}

Image shrink_to(const Image& image, int max_side) {
  const int longer = std::max(image.height, image.width);
  if (longer <= max_side) return image;
  const double s = static_cast<double>(max_side) / longer;
  const int h = std::max(1, static_cast<int>(std::lround(image.height * s)));
  const int w = std::max(1, static_cast<int>(std::lround(image.width * s)));
  cv::Mat out;
  cv::resize(as_mat(image), out, cv::Size(w, h), 0, 0, cv::INTER_AREA);
  if (out.channels() != image.channels) out = out.reshape(image.channels);
  Image r;
  r.height = h;
  r.width = w;
  r.channels = image.channels;
  r.pixels.assign(out.data, out.data + out.total() * out.elemSize());
  return r;
}

std::vector<uint8_t> letterbox_planar(const Image& image, int size, int channels) {
  cv::Mat src = as_mat(image);
  if (channels == 1 && image.channels == 3) cv::cvtColor(src, src, cv::COLOR_RGB2GRAY);
  if (channels == 3 && image.channels == 1) cv::cvtColor(src, src, cv::COLOR_GRAY2RGB);
  const int longer = std::max(image.height, image.width);
  const double s = static_cast<double>(size) / longer;
  const int h = std::clamp(static_cast<int>(std::lround(image.height * s)), 1, size);
  const int w = std::clamp(static_cast<int>(std::lround(image.width * s)), 1, size);
  cv::Mat scaled;
  if (h == src.rows && w == src.cols)
    scaled = src;
  else
    cv::resize(src, scaled, cv::Size(w, h), 0, 0, s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  cv::Mat square = cv::Mat::zeros(size, size, scaled.type());
  scaled.copyTo(square(cv::Rect((size - w) / 2, (size - h) / 2, w, h)));
  std::vector<cv::Mat> planes;
  cv::split(square, planes);
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(channels) * size * size);
  for (const cv::Mat& p : planes) out.insert(out.end(), p.data, p.data + p.total());
  return out;
}

std::string encode_png(const uint8_t* planar, int channels, int height, int width) {
  std::vector<cv::Mat> planes;
  for (int c = 0; c < channels; ++c)
    planes.emplace_back(height, width, CV_8UC1, const_cast<uint8_t*>(planar + static_cast<size_t>(c) * height * width));
  if (channels == 3) std::swap(planes[0], planes[2]);  // OpenCV writes BGR
  cv::Mat m;
  cv::merge(planes, m);
  std::vector<uchar> bytes;
  NASCENT_CHECK(cv::imencode(".png", m, bytes), "encode_png: OpenCV could not encode the image");
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace nascent::data
