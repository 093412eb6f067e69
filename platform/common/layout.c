/* SPDX-License-Identifier: MIT */
#include "layout.h"

#define RAM_PAGES_MAX ((uint64_t)1 << 40) /* keeps every product below 2^52 */

bool rvm_layout_kernel_target(struct rvm_layout *layout, uint64_t ram_base, uint32_t max_partitions,
                              uint64_t ram_pages)
{
    const uint64_t page = RVM_LAYOUT_PAGE_BYTES;
    const uint64_t block = page * RVM_LAYOUT_ALIGN_PAGES;
    if (max_partitions == UINT32_MAX || ram_pages == 0 || ram_pages > RAM_PAGES_MAX ||
        (ram_base & (page - 1u)) != 0) {
        return false;
    }
    const uint64_t tables =
        RVM_LAYOUT_TABLES_PER_PART * (uint64_t)max_partitions + RVM_LAYOUT_TABLES_FIXED;
    const uint64_t hyp = (tables * page + block - 1u) / block * block;
    const uint64_t ram = hyp + ram_pages * page;
    if (tables > UINT32_MAX || ram_base > UINT64_MAX - ram) {
        return false;
    }
    layout->table_pages = (uint32_t)tables;
    layout->spaces = max_partitions + 1u;
    layout->hyp_bytes = hyp;
    layout->guest_base = ram_base + hyp;
    layout->guest_bytes = ram_pages * page;
    layout->ram_bytes = ram;
    return true;
}
