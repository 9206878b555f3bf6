// Typed wrappers around libcurl's variadic functions, which Swift cannot call.
// One function per argument kind that curl_easy_setopt / curl_easy_getinfo accept.
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

/// The libcurl version string, e.g. "7.88.1".
const char *drctl_curl_version(void);

#endif
