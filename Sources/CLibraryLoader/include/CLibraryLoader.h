// Loads a shared library on first use (dlopen + dlsym), so that a drctl process that never
// talks to PostgreSQL or S3 (wal-push and wal-fetch to a directory region, started once per WAL
// segment) does not pay for loading libpq, libcurl and their dependency chains at start-up
// (docs/ARCHITECTURE.md, "Loading libpq and libcurl").
#ifndef DRCTL_CLIBRARYLOADER_H
#define DRCTL_CLIBRARYLOADER_H

#include <stddef.h>

/// One library loaded on demand: what to open, which functions to resolve, and, once tried,
/// the outcome. Define one per library with static storage; the loader fills the rest.
struct drctl_library {
    /// The file name dlopen gets, e.g. "libpq.so.5".
    const char *soname;
    /// What drctl needs it for, and the Debian package that installs it: for the error message.
    const char *purpose;
    const char *package;
    /// The functions to resolve, in the order of `addresses`.
    const char *const *symbols;
    void **addresses;
    size_t count;
    /// 0 not tried yet, 1 loaded, 2 failed (`message` says why). Written once, under a lock;
    /// read with acquire loads (__atomic builtins: a plain int, so Swift tests can build one).
    int state;
    char message[512];
};

/// Loads `library` if not yet tried (thread-safe; tried once per process): NULL when it and
/// every one of its symbols resolved, else a message naming the library, the cause and the
/// package to install.
const char *drctl_library_load(struct drctl_library *library);

/// The address of `library`'s `index`th symbol, loading it first. A library that cannot be
/// loaded ends the process with its message on stderr: callers check `drctl_library_load`
/// first (the Swift types that own a connection or a transfer do), so this is a last resort
/// that names the cause rather than a call through a null pointer.
void *drctl_library_symbol(struct drctl_library *library, size_t index);

/// Defines `static struct drctl_library variable` that resolves the functions `FUNCTIONS` lists
/// (an X-macro: `F(name)` for each), and `index_<name>`, each function's place in it.
#define DRCTL_LIBRARY(variable, soname_, purpose_, package_, FUNCTIONS) \
    enum { FUNCTIONS(DRCTL_LIBRARY_INDEX) variable##_count }; \
    static const char *const variable##_names[] = { FUNCTIONS(DRCTL_LIBRARY_NAME) }; \
    static void *variable##_addresses[variable##_count]; \
    static struct drctl_library variable = { \
        .soname = soname_, .purpose = purpose_, .package = package_, \
        .symbols = variable##_names, .addresses = variable##_addresses, .count = variable##_count, \
    }
#define DRCTL_LIBRARY_INDEX(name) index_##name,
#define DRCTL_LIBRARY_NAME(name) #name,

/// `library`'s function `name`, typed as the library's header declares it (so a forwarder
/// defined with the header's prototype calls it with exactly that type).
#define DRCTL_LIBRARY_FUNCTION(library, name) ((__typeof__(&name))drctl_library_symbol(&library, index_##name))

#endif
