/* SPDX-License-Identifier: MIT */
/* Device register access: volatile, exactly the width asked for, never merged or split. */
#ifndef RVM_FW_MMIO_H
#define RVM_FW_MMIO_H

#include <stdint.h>

static inline void fw_mmio_write32(uint64_t addr, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)addr = v;
}

static inline uint32_t fw_mmio_read32(uint64_t addr)
{
    return *(volatile const uint32_t *)(uintptr_t)addr;
}

static inline void fw_mmio_write8(uint64_t addr, uint8_t v)
{
    *(volatile uint8_t *)(uintptr_t)addr = v;
}

static inline uint8_t fw_mmio_read8(uint64_t addr)
{
    return *(volatile const uint8_t *)(uintptr_t)addr;
}

#endif /* RVM_FW_MMIO_H */
