// Integer types shared by kernel, user programs and host tools.
#pragma once
#include <stdint.h>
#include <stddef.h>

typedef unsigned int   uint;
typedef unsigned short ushort;
typedef unsigned char  uchar;
typedef uint64_t       uint64;
typedef uint32_t       uint32;
typedef uint16_t       uint16;
typedef uint8_t        uint8;
