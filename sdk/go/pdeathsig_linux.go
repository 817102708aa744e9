package ignite

import (
	"os"
	"syscall"
)

// setParentDeathSignal asks the kernel to SIGKILL this process when its
// parent dies, so an instance cannot outlive the platform process. When the
// process is platform-managed and the parent is already gone (we were
// re-parented to init before the request took effect), it exits at once.
func setParentDeathSignal(managed bool) {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0); errno != 0 {
		logger.Printf("prctl(PR_SET_PDEATHSIG): %v", errno)
		return
	}
	if managed && os.Getppid() == 1 {
		logger.Print("parent process is gone; exiting")
		os.Exit(1)
	}
}
