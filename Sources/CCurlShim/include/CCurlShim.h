// libcurl's API for Swift, loaded on first use: Sources/CCurlShim/CCurlShim.c defines each
// function drctl calls, forwarding to libcurl.so.4 opened by CLibraryLoader, so drctl does not
// link libcurl; and typed wrappers around libcurl's variadic functions, which Swift cannot call
// (one function per argument kind that curl_easy_setopt / curl_easy_getinfo accept).
#ifndef DRCTL_CCURLSHIM_H
#define DRCTL_CCURLSHIM_H

#include <curl/curl.h>

CURLcode drctl_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode drctl_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode drctl_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode drctl_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value);
CURLcode drctl_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode drctl_curl_setopt_write_callback(CURL *handle, curl_write_callback callback);
CURLcode drctl_curl_setopt_read_callback(CURL *handle, curl_read_callback callback);
CURLcode drctl_curl_setopt_header_callback(CURL *handle, curl_write_callback callback);
CURLcode drctl_curl_setopt_xferinfo_callback(CURL *handle, curl_xferinfo_callback callback);
CURLcode drctl_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode drctl_curl_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value);

/// Loads libcurl if not yet tried: NULL when usable, else why not and which package to install.
/// Called before the first transfer, so a missing libcurl is an error, not a crash.
const char *drctl_libcurl_unavailable(void);

/// The libcurl version string, e.g. "7.88.1".
const char *drctl_curl_version(void);

#endif
