// SPDX-License-Identifier: MIT
#pragma once

namespace rollback::util {

/// The Unicode simple case folding of `c` (every script: Latin, Greek, Cyrillic, Armenian,
/// Georgian, Cherokee, Deseret, ...; ß stays ß, ẞ folds to ß), with U+0130 and U+0131 folded to
/// "i" as well. Two characters that differ only in case fold to the same character.
char32_t simple_case_fold(char32_t c);

} // namespace rollback::util
