#include "support/image_files.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpeg/djrplol.h>

#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <stdexcept>

#include "nascent/data/idx.h"

namespace nascent::test {
namespace {

const data::IdxArray& train_images() {
  static const data::IdxArray a = data::read_idx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", 3);
  return a;
}
const data::IdxArray& train_labels() {
  static const data::IdxArray a = data::read_idx("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz", 1);
  return a;
}

void check(const OFCondition& c, const std::string& what) {
  if (c.bad()) throw std::runtime_error(what + ": " + c.text());
}

void write_dicom(const std::string& path, const std::vector<uint8_t>& pixels, int h, int w, DicomVariant v) {
  DcmFileFormat file;
  DcmDataset* ds = file.getDataset();
  char uid[100];
  check(ds->putAndInsertString(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage), "SOPClassUID");
  check(ds->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT)), "UID");
  check(ds->putAndInsertString(DCM_Modality, "OT"), "Modality");
  check(ds->putAndInsertString(DCM_PatientName, "Test^Fashion"), "PatientName");
  check(ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(h)), "Rows");
  check(ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(w)), "Columns");
  check(ds->putAndInsertUint16(DCM_SamplesPerPixel, 1), "SamplesPerPixel");
  check(ds->putAndInsertUint16(DCM_PixelRepresentation, 0), "PixelRepresentation");
  const size_t n = static_cast<size_t>(h) * w;
  if (v == DicomVariant::kRescaled16) {
    // Stored value s, modality value 2 s - 1000; pictures 0..255 stored as s = 500 + 4 p, i.e.
    // modality 8 p; the window covers modality 0..2040, i.e. the picture's range.
    check(ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2"), "PI");
    check(ds->putAndInsertUint16(DCM_BitsAllocated, 16), "BitsAllocated");
    check(ds->putAndInsertUint16(DCM_BitsStored, 12), "BitsStored");
    check(ds->putAndInsertUint16(DCM_HighBit, 11), "HighBit");
    check(ds->putAndInsertString(DCM_RescaleSlope, "2"), "RescaleSlope");
    check(ds->putAndInsertString(DCM_RescaleIntercept, "-1000"), "RescaleIntercept");
    check(ds->putAndInsertString(DCM_WindowCenter, "1020"), "WindowCenter");
    check(ds->putAndInsertString(DCM_WindowWidth, "2041"), "WindowWidth");
    std::vector<Uint16> s(n);
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<Uint16>(500 + 4 * pixels[i]);
    check(ds->putAndInsertUint16Array(DCM_PixelData, s.data(), static_cast<unsigned long>(n)), "PixelData");
  } else {
    check(ds->putAndInsertString(DCM_PhotometricInterpretation,
                                 v == DicomVariant::kMonochrome1 ? "MONOCHROME1" : "MONOCHROME2"),
          "PI");
    check(ds->putAndInsertUint16(DCM_BitsAllocated, 8), "BitsAllocated");
    check(ds->putAndInsertUint16(DCM_BitsStored, 8), "BitsStored");
    check(ds->putAndInsertUint16(DCM_HighBit, 7), "HighBit");
    std::vector<Uint8> s;
    if (v == DicomVariant::kMultiFrame3) {
      check(ds->putAndInsertString(DCM_NumberOfFrames, "3"), "NumberOfFrames");
      s.assign(n, 0);
      s.insert(s.end(), pixels.begin(), pixels.end());
      s.insert(s.end(), n, 0);
    } else {
      s.assign(pixels.begin(), pixels.end());
      if (v == DicomVariant::kMonochrome1)
        for (auto& p : s) p = static_cast<Uint8>(255 - p);
    }
    if (v == DicomVariant::kJpeg2000Claimed) {
      // An offset table and one fragment, saved under a syntax nothing here decodes.
      auto* seq = new DcmPixelSequence(DcmTag(DCM_PixelData, EVR_OB));
      seq->insert(new DcmPixelItem(DcmTag(DCM_Item, EVR_OB)));
      auto* fragment = new DcmPixelItem(DcmTag(DCM_Item, EVR_OB));
      check(fragment->putUint8Array(s.data(), static_cast<unsigned long>(s.size())), "fragment");
      seq->insert(fragment);
      auto* pixels = new DcmPixelData(DCM_PixelData);
      pixels->putOriginalRepresentation(EXS_JPEG2000LosslessOnly, nullptr, seq);
      check(ds->insert(pixels), "PixelData");
      check(file.saveFile(path.c_str(), EXS_JPEG2000LosslessOnly), "save " + path);
      return;
    }
    if (v != DicomVariant::kNoPixelData)
      check(ds->putAndInsertUint8Array(DCM_PixelData, s.data(), static_cast<unsigned long>(s.size())), "PixelData");
  }
  if (v == DicomVariant::kJpegLossless) {
    static const bool registered = [] {
      DJEncoderRegistration::registerCodecs();
      return true;
    }();
    (void)registered;
    const DJ_RPLossless lossless;
    check(ds->chooseRepresentation(EXS_JPEGProcess14SV1, &lossless), "JPEG lossless compression");
    check(file.saveFile(path.c_str(), EXS_JPEGProcess14SV1), "save " + path);
    return;
  }
  check(file.saveFile(path.c_str(), EXS_LittleEndianExplicit), "save " + path);
}

}  // namespace

std::vector<uint8_t> fashion_picture(int64_t i, int64_t* label) {
  const auto& im = train_images();
  const size_t per = 28 * 28;
  if (label) *label = train_labels().bytes[static_cast<size_t>(i)];
  return {im.bytes.begin() + static_cast<std::ptrdiff_t>(i * per),
          im.bytes.begin() + static_cast<std::ptrdiff_t>((i + 1) * per)};
}

void write_image(const std::string& path, const std::vector<uint8_t>& pixels, int h, int w, const std::string& format,
                 DicomVariant variant) {
  if (format == "dicom") return write_dicom(path, pixels, h, w, variant);
  cv::Mat m(h, w, CV_8UC1, const_cast<uint8_t*>(pixels.data()));
  if (format == "png16") {
    cv::Mat m16;
    m.convertTo(m16, CV_16U, 257.0);
    m = m16;
  }
  std::vector<int> params;
  if (format == "jpeg") params = {cv::IMWRITE_JPEG_QUALITY, 95};
  if (!cv::imwrite(path, m, params)) throw std::runtime_error("cannot write " + path);
}

void write_rgb_png(const std::string& path, int h, int w, uint8_t r, uint8_t g, uint8_t b) {
  const cv::Mat m(h, w, CV_8UC3, cv::Scalar(b, g, r));  // OpenCV's order is BGR
  if (!cv::imwrite(path, m)) throw std::runtime_error("cannot write " + path);
}

void write_class_folders(const std::string& root, const std::vector<std::pair<int64_t, int64_t>>& label_counts,
                         const std::vector<std::string>& formats, int64_t start) {
  auto ext = [](const std::string& f) {
    if (f == "jpeg") return std::string(".jpg");
    if (f == "png16") return std::string(".png");
    if (f == "dicom") return std::string(".dcm");
    if (f == "tiff") return std::string(".tif");
    return "." + f;
  };
  const auto& labels = train_labels().bytes;
  size_t file_no = 0;
  for (const auto& [label, count] : label_counts) {
    const std::string dir = root + "/c" + std::to_string(label);
    std::filesystem::create_directories(dir);
    int64_t written = 0;
    for (size_t i = static_cast<size_t>(start); i < labels.size() && written < count; ++i) {
      if (labels[i] != label) continue;
      const std::string& format = formats[file_no++ % formats.size()];
      write_image(dir + "/" + std::to_string(i) + ext(format), fashion_picture(static_cast<int64_t>(i)), 28, 28,
                  format);
      ++written;
    }
  }
}

}  // namespace nascent::test
