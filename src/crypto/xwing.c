// SPDX-License-Identifier: GPL-2.0-only
/* placeholder while being written */
#include "crypto/keccak.h"
