#include "CLibraryLoader.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t loading = PTHREAD_MUTEX_INITIALIZER;

/// Opens the library and resolves every symbol; on failure fills `message` and closes it again.
static int resolve(struct drctl_library *library) {
    // RTLD_LOCAL: the library's symbols stay out of the global scope (nothing else in the
    // process binds to them by accident); RTLD_NOW: a missing symbol fails here, not mid-call.
    void *handle = dlopen(library->soname, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        snprintf(library->message, sizeof library->message,
                 "cannot load %s, which drctl needs %s: %s; install the %s package",
                 library->soname, library->purpose, dlerror(), library->package);
        return 0;
    }
    for (size_t i = 0; i < library->count; i++) {
        void *address = dlsym(handle, library->symbols[i]);
        if (address == NULL) {
            snprintf(library->message, sizeof library->message,
                     "%s lacks %s, which drctl needs %s (too old?); install the %s package of this distribution",
                     library->soname, library->symbols[i], library->purpose, library->package);
            dlclose(handle);
            return 0;
        }
        library->addresses[i] = address;
    }
    return 1;   // never closed: the addresses stay valid until exit
}

const char *drctl_library_load(struct drctl_library *library) {
    if (__atomic_load_n(&library->state, __ATOMIC_ACQUIRE) == 0) {
        pthread_mutex_lock(&loading);
        if (__atomic_load_n(&library->state, __ATOMIC_RELAXED) == 0) {
            __atomic_store_n(&library->state, resolve(library) ? 1 : 2, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&loading);
    }
    return __atomic_load_n(&library->state, __ATOMIC_ACQUIRE) == 1 ? NULL : library->message;
}

void *drctl_library_symbol(struct drctl_library *library, size_t index) {
    if (__atomic_load_n(&library->state, __ATOMIC_ACQUIRE) != 1) {
        const char *problem = drctl_library_load(library);
        if (problem != NULL) {
            fprintf(stderr, "drctl: %s\n", problem);
            abort();
        }
    }
    return library->addresses[index];
}
