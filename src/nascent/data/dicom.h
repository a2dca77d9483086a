// DICOM files -> 8-bit pixels through DCMTK: rescale slope/intercept and the file's first VOI
// window (else the frame's own minimum..maximum), MONOCHROME1 shown inverted like MONOCHROME2,
// colour files as RGB; the middle frame of a multi-frame file. Compressed transfer syntaxes that
// DCMTK decodes (JPEG, JPEG-LS, RLE) are decoded; any other is one error naming it.
#pragma once

#include <string>

#include "nascent/data/image_file.h"

namespace nascent::data {

// Throws InputError naming the file: not DICOM, no pixel data, undecodable transfer syntax.
Image decode_dicom_file(const std::string& path);

}  // namespace nascent::data
