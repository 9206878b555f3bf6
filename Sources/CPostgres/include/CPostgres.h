// libpq's API for Swift, loaded on first use: Sources/CPostgres/LibPQ.c defines each function
// drctl calls, forwarding to libpq.so.5 opened by CLibraryLoader, so drctl does not link libpq.
#ifndef DRCTL_CPOSTGRES_H
#define DRCTL_CPOSTGRES_H

#include <postgresql/libpq-fe.h>

/// Loads libpq if not yet tried: NULL when usable, else why not and which package to install.
/// Called before the first connection, so a missing libpq is an error, not a crash.
const char *drctl_libpq_unavailable(void);

#endif
