# CMake generated Testfile for 
# Source directory: /work/main/sdk/go
# Build directory: /work/main/build/sdk/go
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
