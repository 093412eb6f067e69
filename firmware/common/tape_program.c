/* SPDX-License-Identifier: MIT */
/*
 * The firmware program: replay the operation tape QEMU's loader put in the tape window
 * (fw_board.tape_*; docs/tape-format.md) through the kernel on this machine (fw_hal.h), stream
 * the witness log on the UART and end with the replay's status.
 *
 *   1. find the tape's length (the loader's length word, else the header's) and check it fits the
 *      tape window;
 *   2. check the tape (rvm_tape_open: checksum, then every field) and that the guest RAM base in
 *      its header is the one the kernel-target layout (platform/common/layout.h) gives on this
 *      board, and that guest RAM ends below the firmware;
 *   3. write the witness header frame (the tape's seed, the board's platform, the build);
 *   4. zero guest RAM (QEMU may have put the device tree there), carve the kernel's storage and
 *      the address spaces from the heap above the image, replay every entry;
 *   5. print `tape: ok calls=N records=N`, deliver what the log still holds (the sink may have
 *      refused it during the run), write the end frame and exit 0; or print the named status,
 *      where it stopped and why, and exit FW_EXIT_FAILED.
 * The keys come from the tape's header: the firmware derives nothing.
 *
 * Build-time switch (firmware/meson.build): FW_TRIGGER_FAULT takes an unhandled exception after
 * the replay, before the end frame, for the tests of the exception path.
 */
#include "arch.h"
#include "board.h"
#include "console.h"
#include "fw_hal.h"
#include "guest.h"
#include "mem.h"
#include "tape_replay.h"

#include "layout.h"
#include "rvm/bytes.h"
#include "rvm/crypto_portable.h"

#include "fw_build_id.h"

#define PAGE 4096u

extern char __image_start[];
extern char __heap_start[];
extern char __heap_end[];

static struct fw_hal fw_hal;
static struct rvm_replay fw_replay;

/* The heap above the image: storage sized from the tape, handed out once. */
struct heap {
    uintptr_t next;
    uintptr_t end;
};

static void *carve(struct heap *h, uint64_t bytes, uint64_t align)
{
    const uintptr_t at = (h->next + (uintptr_t)align - 1u) & ~((uintptr_t)align - 1u);
    if (at < h->next || at > h->end || bytes > h->end - at) {
        return NULL;
    }
    h->next = at + (uintptr_t)bytes;
    memset((void *)at, 0, (size_t)bytes);
    return (void *)at;
}

static void put_signed(int64_t v)
{
    if (v < 0) {
        fw_puts("-");
        fw_put_dec((uint64_t)0 - (uint64_t)v);
    } else {
        fw_put_dec((uint64_t)v);
    }
}

/* A refusal of the firmware's own (the tape does not fit this board): `tape: <name> ...`. */
static _Noreturn void refuse(const char *name, const char *what, uint64_t want, uint64_t got)
{
    fw_console_line_start();
    fw_puts("tape: ");
    fw_puts(name);
    fw_puts(" at=0 ");
    fw_puts(what);
    fw_puts(" want=");
    fw_put_hex(want);
    fw_puts(" got=");
    fw_put_hex(got);
    fw_puts("\n");
    fw_arch_exit(FW_EXIT_FAILED);
}

static _Noreturn void refuse_status(enum rvm_tape_status st)
{
    fw_console_line_start();
    fw_puts("tape: ");
    fw_puts(rvm_tape_status_name(st));
    fw_puts(" at=0\n");
    fw_arch_exit(FW_EXIT_FAILED);
}

/* The tape's length: the loader's word, else 512 + the header's body length (0 when the magic
 * is not there: rvm_tape_open then names what is wrong). */
static uint64_t tape_length(const uint8_t *tape)
{
    const uint64_t loaded = *(volatile const uint64_t *)(uintptr_t)fw_board.tape_length_addr;
    if (loaded != 0) {
        return loaded;
    }
    static const uint8_t magic[8] = {'R', 'V', 'M', 'T', 'A', 'P', 'E', 0};
    if (memcmp(tape, magic, sizeof(magic)) != 0) {
        return RVM_TAPE_HEADER_BYTES;
    }
    const uint64_t body = rvm_load_le64(tape + 16);
    return body > fw_board.tape_bytes ? UINT64_MAX : RVM_TAPE_HEADER_BYTES + body;
}

static void decimal(char out[21], uint64_t v)
{
    char buf[20];
    size_t n = sizeof(buf);
    do { /* bound: 20 digits of a uint64_t */
        buf[--n] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0 && n > 0);
    memcpy(out, buf + n, sizeof(buf) - n);
    out[sizeof(buf) - n] = '\0';
}

/* Step 2: the layout the tape was recorded on, on this board. */
static void check_layout(const struct rvm_tape_header *h, struct rvm_layout *layout)
{
    if (!rvm_layout_kernel_target(layout, fw_board.ram_base, h->config.max_partitions,
                                  h->config.ram_pages)) {
        refuse("layout", "ram_pages", 0, h->config.ram_pages);
    }
    if (layout->guest_base != h->config.ram_base) {
        refuse("layout", "ram_base", layout->guest_base, h->config.ram_base);
    }
    const uint64_t end = layout->guest_base + layout->guest_bytes;
    if (end > (uint64_t)(uintptr_t)__image_start) {
        refuse("layout", "guest_end", (uint64_t)(uintptr_t)__image_start, end);
    }
}

static void carve_machine(const struct rvm_tape_header *h, const struct rvm_layout *layout,
                          void **storage, size_t *storage_bytes)
{
    struct heap heap = {(uintptr_t)__heap_start, (uintptr_t)__heap_end};
    struct fw_hal_storage st = {
        .spaces = carve(&heap, (uint64_t)layout->spaces * sizeof(struct rvm_aspace_space), 16),
        .table_pages = carve(&heap, (uint64_t)layout->table_pages * PAGE, PAGE),
        .table_info =
            carve(&heap, (uint64_t)layout->table_pages * sizeof(struct rvm_a64_page_info), 16),
        .regions =
            carve(&heap,
                  (uint64_t)layout->spaces * FW_HAL_PMP_REGIONS * sizeof(struct rvm_rv_region), 16),
        .scratch = carve(&heap, (FW_HAL_PMP_REGIONS + 1u) * sizeof(struct rvm_rv_region), 16),
    };
    *storage_bytes = rvm_kernel_storage_bytes(&h->config);
    *storage = carve(&heap, *storage_bytes, 64);
    if (st.spaces == NULL || st.table_pages == NULL || st.table_info == NULL ||
        st.regions == NULL || st.scratch == NULL || *storage == NULL || *storage_bytes == 0) {
        refuse("storage", "heap", heap.end - (uintptr_t)__heap_start, *storage_bytes);
    }
    if (fw_hal_init(&fw_hal, (uint8_t)h->config.arch, layout->guest_base, layout->guest_bytes,
                    layout->spaces, layout->table_pages, &st) != RVM_OK) {
        refuse("platform", "aspace", 0, 0);
    }
}

static void report(const struct rvm_replay *rp, enum rvm_tape_status st)
{
    fw_console_line_start();
    fw_puts("tape: ");
    fw_puts(rvm_tape_status_name(st));
    if (st == RVM_TAPE_S_OK) {
        fw_puts(" calls=");
        fw_put_dec(rp->calls);
        fw_puts(" records=");
        fw_put_dec(rp->kernel.log.appended);
    } else {
        fw_puts(" at=");
        fw_put_dec(rp->at);
        fw_puts(" entry=");
        fw_puts(rvm_tape_entry_name(rp->entry));
        fw_puts(" hook=");
        fw_puts(rvm_tape_hook_name(rp->hook));
        fw_puts(" want=");
        put_signed(rp->want);
        fw_puts(" got=");
        put_signed(rp->got);
    }
    fw_puts("\n");
}

_Noreturn void fw_main(void)
{
    const uint64_t started = fw_arch_counter();
    fw_puts("rvmfw: ");
    fw_puts(fw_board.name);
    fw_puts(" build " FW_BUILD_ID "\n");

    const uint8_t *tape = (const uint8_t *)(uintptr_t)fw_board.tape_base;
    const uint64_t len = tape_length(tape);
    if (len > fw_board.tape_bytes) {
        refuse("bad-length", "tape_window", fw_board.tape_bytes, len);
    }
    struct rvm_crypto crypto;
    rvm_crypto_portable(&crypto);
    struct rvm_tape_reader reader;
    struct rvm_tape_header header;
    enum rvm_tape_status st = rvm_tape_open(&reader, &header, &crypto, tape, (size_t)len);
    if (st != RVM_TAPE_S_OK) {
        refuse_status(st);
    }
    struct rvm_layout layout;
    check_layout(&header, &layout);

    char seed[21];
    decimal(seed, header.seed);
    const struct rvm_wire_field fields[] = {
        {"platform", fw_board.platform}, {"source", "firmware"}, {"seed", seed},
        {"build", FW_BUILD_ID},          {"program", "tape"},
    };
    /* QEMU may have put the device tree in guest RAM: the kernel's RAM starts as zeros. */
    memset((void *)(uintptr_t)layout.guest_base, 0, (size_t)layout.guest_bytes);
    void *storage;
    size_t storage_bytes;
    carve_machine(&header, &layout, &storage, &storage_bytes);
    if (!fw_witness_uart_open(&fw_hal.stream, fields, sizeof(fields) / sizeof(fields[0]))) {
        refuse("witness-header", "field", 0, 0);
    }

    const struct rvm_replay_machine machine = {&fw_hal.hal, fw_guest_access, fw_guest_hypercall,
                                               &fw_hal};
    st = rvm_replay_open(&fw_replay, &machine, tape, (size_t)len, storage, storage_bytes);
    if (st == RVM_TAPE_S_OK) {
        st = rvm_replay_run(&fw_replay);
    }
    report(&fw_replay, st);
    /* A guest's call to the firmware below the hypervisor must stop at the hypervisor: probed
     * once a replay has given the guests a translation, with PSCI SYSTEM_OFF as the call. */
    const bool smc_trapped = st != RVM_TAPE_S_OK || fw_guest_smc_probe(&fw_hal);
    fw_guest_report(fw_replay.direct_hypercalls, fw_replay.direct_faults);
    if (st != RVM_TAPE_S_OK) {
        fw_arch_exit(FW_EXIT_FAILED);
    }
    if (!smc_trapped) {
        refuse("guest-smc", "trap", FW_TRAP_SMC, 0);
    }

#ifdef FW_TRIGGER_FAULT
    fw_puts("rvmfw: taking an unhandled exception on purpose\n");
    fw_arch_trigger_fault();
#endif

    /* The tape ends where the simulator's run ended. Records and checkpoints its sink had not
     * taken by then (a stalled or failing sink under injected faults) are still in the log; the
     * board's witness driver delivers them now, outside the replay, so the stream holds the whole
     * log. */
    fw_replay.kernel.log.hal = &fw_hal.hal;
    if (rvm_witness_flush(&fw_replay.kernel.log) != RVM_OK) {
        refuse("witness-flush", "pending", 0, rvm_witness_pending(&fw_replay.kernel.log));
    }
    uint8_t digest[RVM_SHA256_DIGEST_BYTES];
    rvm_witness_digest(&fw_replay.kernel.log, digest);
    if (!fw_witness_uart_end(&fw_hal.stream, fw_replay.kernel.log.appended, digest)) {
        refuse("witness-end", "frame", 0, 0);
    }
    fw_puts("rvmfw: replayed in ");
    fw_put_dec((fw_arch_counter() - started) * 1000000u / fw_board.timer_hz);
    fw_puts(" us\n");
    fw_arch_exit(FW_EXIT_OK);
}
