#ifndef CREDD_CCONCURRENCYHOOK_SHIM_H
#define CREDD_CCONCURRENCYHOOK_SHIM_H

// The Swift runtime's hook for global jobs (swift/Runtime/Concurrency.h), which NIO finds with
// dlsym to become Swift concurrency's executor. The static release binary is linked with
// --exclude-libs ALL (swiftc's -static-stdlib), which hides it from dlsym; a reference from
// credd's own code still reaches it.
extern void *_Nullable swift_task_enqueueGlobal_hook;

// Its address: Swift 6 refuses to touch a mutable C global directly.
static inline void *_Nullable *_Nonnull credd_enqueueGlobalHook(void) {
    return &swift_task_enqueueGlobal_hook;
}

#endif
