// Every libcurl function drctl calls, with curl.h's own prototype (the compiler checks each
// against it), forwarding to libcurl.so.4 loaded on first use; the variadic ones are called only
// through the typed wrappers below. A function missing here fails the link, never the run.
// Hidden: the forwarders are not exported from the drctl binary, so libcurl's calls to its own
// functions never reach them.
#pragma GCC visibility push(hidden)
#include "CCurlShim.h"
#include "CLibraryLoader.h"

#define LIBCURL_FUNCTIONS(F) \
    F(curl_easy_cleanup) F(curl_easy_getinfo) F(curl_easy_init) F(curl_easy_perform) F(curl_easy_reset) \
    F(curl_easy_setopt) F(curl_easy_strerror) F(curl_global_init) F(curl_slist_append) \
    F(curl_slist_free_all) F(curl_version_info)

DRCTL_LIBRARY(libcurl, "libcurl.so.4", "for S3 regions and webhooks", "libcurl4", LIBCURL_FUNCTIONS);

const char *drctl_libcurl_unavailable(void) { return drctl_library_load(&libcurl); }

#define LIBCURL(name) DRCTL_LIBRARY_FUNCTION(libcurl, name)

void curl_easy_cleanup(CURL *curl) { LIBCURL(curl_easy_cleanup)(curl); }
CURL *curl_easy_init(void) { return LIBCURL(curl_easy_init)(); }
CURLcode curl_easy_perform(CURL *curl) { return LIBCURL(curl_easy_perform)(curl); }
void curl_easy_reset(CURL *curl) { LIBCURL(curl_easy_reset)(curl); }
const char *curl_easy_strerror(CURLcode code) { return LIBCURL(curl_easy_strerror)(code); }
CURLcode curl_global_init(long flags) { return LIBCURL(curl_global_init)(flags); }
struct curl_slist *curl_slist_append(struct curl_slist *list, const char *data) {
    return LIBCURL(curl_slist_append)(list, data);
}
void curl_slist_free_all(struct curl_slist *list) { LIBCURL(curl_slist_free_all)(list); }
curl_version_info_data *curl_version_info(CURLversion version) { return LIBCURL(curl_version_info)(version); }

CURLcode drctl_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return LIBCURL(curl_easy_setopt)(handle, option, value);
}
CURLcode drctl_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return LIBCURL(curl_easy_setopt)(handle, option, value);
}
CURLcode drctl_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return LIBCURL(curl_easy_setopt)(handle, option, value);
}
CURLcode drctl_curl_setopt_offset(CURL *handle, CURLoption option, curl_off_t value) {
    return LIBCURL(curl_easy_setopt)(handle, option, value);
}
CURLcode drctl_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return LIBCURL(curl_easy_setopt)(handle, option, value);
}
CURLcode drctl_curl_setopt_write_callback(CURL *handle, curl_write_callback callback) {
    return LIBCURL(curl_easy_setopt)(handle, CURLOPT_WRITEFUNCTION, callback);
}
CURLcode drctl_curl_setopt_read_callback(CURL *handle, curl_read_callback callback) {
    return LIBCURL(curl_easy_setopt)(handle, CURLOPT_READFUNCTION, callback);
}
CURLcode drctl_curl_setopt_header_callback(CURL *handle, curl_write_callback callback) {
    return LIBCURL(curl_easy_setopt)(handle, CURLOPT_HEADERFUNCTION, callback);
}
CURLcode drctl_curl_setopt_xferinfo_callback(CURL *handle, curl_xferinfo_callback callback) {
    return LIBCURL(curl_easy_setopt)(handle, CURLOPT_XFERINFOFUNCTION, callback);
}
CURLcode drctl_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return LIBCURL(curl_easy_getinfo)(handle, info, value);
}
CURLcode drctl_curl_getinfo_offset(CURL *handle, CURLINFO info, curl_off_t *value) {
    return LIBCURL(curl_easy_getinfo)(handle, info, value);
}
const char *drctl_curl_version(void) {
    return curl_version_info(CURLVERSION_NOW)->version;
}
