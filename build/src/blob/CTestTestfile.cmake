# CMake generated Testfile for 
# Source directory: /work/main/src/blob
# Build directory: /work/main/build/src/blob
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
