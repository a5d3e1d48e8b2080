# Cross-compile the kernels and their tests for aarch64 (Debian g++-aarch64-linux-gnu) and run the
# tests under qemu-aarch64 (qemu-user). binfmt is not registered on these machines, so ctest calls the
# emulator explicitly. QRB_QEMU_CPU picks the emulated CPU (default "max", which has dotprod; use
# cortex-a72 for the A72 path).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
if(NOT DEFINED QRB_QEMU_CPU)
  set(QRB_QEMU_CPU "max")
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -cpu ${QRB_QEMU_CPU} -L /usr/aarch64-linux-gnu)
