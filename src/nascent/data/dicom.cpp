#include "nascent/data/dicom.h"

#include <dcmtk/config/osconfig.h>  // first, as DCMTK requires
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmimage/diregist.h>  // colour images in DicomImage
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>
#include <fmt/format.h>

#include <mutex>

#include "nascent/core/error.h"

namespace nascent::data {
namespace {

// DCMTK's decoders for compressed pixel data are registered once per process; its logger, which
// would print warnings on stderr, is quieted (problems become one InputError instead).
void register_codecs() {
  static std::once_flag once;
  std::call_once(once, [] {
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
  });
}

}  // namespace

Image decode_dicom_file(const std::string& path) {
  register_codecs();
  DcmFileFormat file;
  OFCondition status = file.loadFile(path.c_str());
  if (status.bad()) throw InputError(path, "", fmt::format("cannot read the DICOM file ({})", status.text()));
  DcmDataset* ds = file.getDataset();
  if (!ds->tagExists(DCM_PixelData) && !ds->tagExists(DCM_FloatPixelData) && !ds->tagExists(DCM_DoubleFloatPixelData))
    throw InputError(path, "", "the DICOM file has no pixel data (7FE0,0010)");
  const E_TransferSyntax xfer = ds->getOriginalXfer();
  const DcmXfer xfer_info(xfer);
  if (xfer_info.isEncapsulated()) {
    // Decompress here so that an unsupported syntax gets its own message.
    status = ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
    if (status.bad() || !ds->canWriteXfer(EXS_LittleEndianExplicit))
      throw InputError(path, "",
                       fmt::format("the DICOM file's transfer syntax {} ({}) cannot be decoded here; convert it to an "
                                   "uncompressed or JPEG syntax (e.g. with DCMTK's dcmdjpeg or gdcmconv --raw)",
                                   xfer_info.getXferName(), xfer_info.getXferID()));
  }
  Sint32 frames = 1;
  if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
  const unsigned long middle = static_cast<unsigned long>(frames / 2);
  DicomImage image(&file, ds->getCurrentXfer(), CIF_MayDetachPixelData, middle, 1);
  if (image.getStatus() != EIS_Normal)
    throw InputError(path, "",
                     fmt::format("cannot decode the DICOM pixel data ({})", DicomImage::getString(image.getStatus())));
  const bool mono = image.isMonochrome();
  if (mono) {
    // The file's own first window, else the frame's minimum..maximum.
    if (image.getWindowCount() == 0 || !image.setWindow(0)) image.setMinMaxWindow();
  }
  const void* data = image.getOutputData(8, 0, 0);
  if (data == nullptr) throw InputError(path, "", "cannot render the DICOM pixel data to 8 bits");
  Image out;
  out.height = static_cast<int>(image.getHeight());
  out.width = static_cast<int>(image.getWidth());
  out.channels = mono ? 1 : 3;
  const auto* bytes = static_cast<const uint8_t*>(data);
  out.pixels.assign(bytes, bytes + static_cast<size_t>(out.height) * out.width * out.channels);
  return out;
}

}  // namespace nascent::data
