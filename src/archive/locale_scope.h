// Utf8LocaleScope: while alive, the calling thread runs in the C.UTF-8 locale (uselocale is per thread, so
// other threads are unaffected). libarchive converts entry names through the current locale; under C.UTF-8
// that conversion is the identity for UTF-8 names, whatever locale the process was started in.
#pragma once

#include <locale.h>

namespace ignite::archive {

class Utf8LocaleScope {
 public:
  Utf8LocaleScope() {
    static locale_t utf8 = newlocale(LC_ALL_MASK, "C.UTF-8", static_cast<locale_t>(0));
    if (utf8 != static_cast<locale_t>(0)) previous_ = uselocale(utf8);
  }
  ~Utf8LocaleScope() {
    if (previous_ != static_cast<locale_t>(0)) uselocale(previous_);
  }
  Utf8LocaleScope(const Utf8LocaleScope&) = delete;
  Utf8LocaleScope& operator=(const Utf8LocaleScope&) = delete;

 private:
  locale_t previous_ = static_cast<locale_t>(0);
};

}  // namespace ignite::archive
