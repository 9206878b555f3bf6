// Tells ThreadSanitizer when Swift's Mutex hands a contended lock over (scripts/test-tsan.sh
// preloads it into every process the tests start).
//
// On Linux, Mutex locks and unlocks with an atomic compare-exchange that is inlined into our
// code, and so instrumented; when the lock is contended it calls `_lockSlow`/`_unlockSlow` in
// libswiftSynchronization, which is not, and which hand the lock over through a futex. The
// tool then sees neither the release nor the acquire and reports the Mutex's own value,
// touched only inside `withLock`, as raced. These wrappers take the place of the two library
// functions and say what they do: the release before the real unlock, the acquire after the
// real lock, on the lock word's address (the one the inlined atomics use). In a process that is
// not instrumented (psql, python, swift-test) the annotations are absent and the wrappers only
// call through.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>

#define SWIFTCALL __attribute__((swiftcall))
#define SWIFT_SELF __attribute__((swift_context))  // LLVM swiftself: the register Swift passes `self` in

typedef SWIFTCALL void (*LockSlow)(uint32_t selfID, SWIFT_SELF void *handle);
typedef SWIFTCALL void (*UnlockSlow)(SWIFT_SELF void *handle);
typedef SWIFTCALL bool (*TryLockSlow)(SWIFT_SELF void *handle);
typedef void (*Annotation)(void *address);

#define LOCK_SLOW "$s15Synchronization12_MutexHandleV9_lockSlowyys6UInt32VF"
#define UNLOCK_SLOW "$s15Synchronization12_MutexHandleV11_unlockSlowyyF"
#define TRY_LOCK_SLOW "$s15Synchronization12_MutexHandleV12_tryLockSlowSbyF"

static void annotate(const char *name, void *address) {
    Annotation annotation = (Annotation)dlsym(RTLD_DEFAULT, name);
    if (annotation) annotation(address);
}

SWIFTCALL void lockSlow(uint32_t selfID, SWIFT_SELF void *handle) __asm__(LOCK_SLOW);
SWIFTCALL void lockSlow(uint32_t selfID, SWIFT_SELF void *handle) {
    ((LockSlow)dlsym(RTLD_NEXT, LOCK_SLOW))(selfID, handle);
    annotate("__tsan_acquire", handle);
}

SWIFTCALL void unlockSlow(SWIFT_SELF void *handle) __asm__(UNLOCK_SLOW);
SWIFTCALL void unlockSlow(SWIFT_SELF void *handle) {
    annotate("__tsan_release", handle);
    ((UnlockSlow)dlsym(RTLD_NEXT, UNLOCK_SLOW))(handle);
}

SWIFTCALL bool tryLockSlow(SWIFT_SELF void *handle) __asm__(TRY_LOCK_SLOW);
SWIFTCALL bool tryLockSlow(SWIFT_SELF void *handle) {
    bool locked = ((TryLockSlow)dlsym(RTLD_NEXT, TRY_LOCK_SLOW))(handle);
    if (locked) annotate("__tsan_acquire", handle);
    return locked;
}
