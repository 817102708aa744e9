# CMake generated Testfile for 
# Source directory: /work/main/src/build
# Build directory: /work/main/build/src/build
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
