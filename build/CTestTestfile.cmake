# CMake generated Testfile for 
# Source directory: /work/main
# Build directory: /work/main/build
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
subdirs("proto")
subdirs("src/common")
subdirs("src/archive")
subdirs("src/store")
subdirs("src/blob")
subdirs("src/build")
subdirs("src/http")
subdirs("src/runtime")
subdirs("src/gateway")
subdirs("src/api")
subdirs("src/cli")
subdirs("src/server")
subdirs("sdk/go")
subdirs("tests")
