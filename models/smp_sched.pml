/*
 * SMP scheduling and VMID reuse in the core, as a Promela model for spin.
 *
 * Derived by hand from core/src/sched.c, core/src/vmid.c, core/src/vcpu.c and the kernel entry
 * points that drive them (core/src/kernel.c, core/src/kernel_partition.c). docs/evidence.md says
 * what is modelled, what is abstracted, and how to run it (`make model`).
 *
 * Granularity. The core is a sequential reference model: the simulator (and the firmware) hand it
 * one event at a time, so each kernel entry point is one atomic step (a d_step here). What runs in
 * parallel is everything around it: each CPU's timer interrupt (one process per CPU) and the
 * operator / guests asking for lifecycle and hot-plug operations (the `admin` process), in any
 * interleaving. The hardware side is ghost state: each CPU's VTTBR (VMID + whose stage-2 tables)
 * and, per VMID, whose translations may sit in the TLB.
 *
 * Scope: NP partitions, NC CPUs, NV hardware VMIDs including the reserved VMID 0 (docs/evidence.md
 * says why this scope). The properties below spell out partitions 1..3 and CPUs 0..1.
 */

#define NP 3 /* partitions 1..NP */
#define NC 2 /* CPUs 0..NC-1; the hot-plug and placement code below is written for two */
#define NV 4 /* hardware VMIDs incl. 0: rvm_vmid_init needs ncpus < nvmids - 1 */
#ifndef NGEN
#define NGEN 1 /* slot generations modulo NGEN; spin -DNGEN=2 makes them roll over (docs/evidence.md) */
#endif

#define NONE 255

/* Kernel partition states (enum rvm_kpart_state in core/include/rvm/kernel.h). */
#define K_FREE      0
#define K_RUNNING   2 /* schedulable: queued or on a CPU */
#define K_SUSPENDED 3 /* RVM_KPART_SUSPENDED and RVM_KPART_HIBERNATED look alike to the scheduler */

/* ---- kernel / scheduler state ------------------------------------------------------------- */
byte kst[NP + 1];   /* kernel state of partition id (index 0 unused) */
byte qcpu[NP + 1];  /* struct rvm_sched_part.qcpu while queued, NONE otherwise */
byte ord[NP];       /* the queued ids in ascending enqueue sequence (rvm_sched_part.seq) */
byte nq;            /* entries used in ord */
byte cur[NC];       /* rvm_sched_cpu.current == rvm_vcpu_cpu.loaded (kernel_check.c checks it) */
bool online[NC];

/* ---- VMID table (struct rvm_vmid_table) --------------------------------------------------- */
byte owner[NV];     /* slot owner, 0: free */
byte gen[NV];       /* slot generation (mod NGEN) */
bool dirty[NV];     /* activated since its last invalidation */
byte lru[NV - 1];   /* slots 1..NV-1 from least to most recently activated (last_used order) */
byte bvmid[NP + 1]; /* binding of a partition: VMID (0: none) ... */
byte bgen[NP + 1];  /* ... and generation */
byte vload[NC];     /* rvm_vmid_table.loaded[cpu]: VMID in the CPU's VTTBR, 0: none */

/* ---- ghost: hardware ---------------------------------------------------------------------- */
byte vpart[NC];     /* whose stage-2 tables VTTBR points at (valid while vload[c] != 0) */
byte tlb[NV];       /* per VMID: whose translations the TLB may hold under it: 0 (none), a live
                     * partition's id, GONE (a destroyed partition's: ids are reused) or MIXED */
bool quiet;         /* the environment has stopped asking for operations (for property live) */

hidden byte i, j, v, best, bestload, load, found, nx, to;

#define GONE (NP + 1)
#define MIXED 255
#define TLB_ADD(vm, tg) tlb[vm] = (tlb[vm] == 0 || tlb[vm] == (tg) -> (tg) : MIXED)
/* binding_valid: the slot still has this owner and generation */
#define VALID(p) (bvmid[p] != 0 && owner[bvmid[p]] == (p) && gen[bvmid[p]] == bgen[p])

/* ---- properties ---------------------------------------------------------------------------- */

/* (a) no partition is current on both CPUs */
#define TWICE (cur[0] != 0 && cur[0] == cur[1])
ltl exclusive { [] !TWICE }

/* (b) a CPU runs a partition only through that partition's own stage-2 tables, under a VMID
 * whose TLB holds translations of that partition alone: no other partition (nor a destroyed one
 * that had the same id) used the VMID since its last invalidation. */
#define CLEAN(c) (cur[c] == 0 || (vload[c] != 0 && vpart[c] == cur[c] && \
                                  tlb[vload[c]] == cur[c]))
ltl vmid_clean { [] (CLEAN(0) && CLEAN(1)) }

/* (c) once the environment stops suspending, destroying and hot-plugging, every schedulable
 * partition gets a CPU (run with weak fairness: pan -f). */
#define RUNS(p) (cur[0] == p || cur[1] == p)
ltl live { [] ((quiet && kst[1] == K_RUNNING -> <> RUNS(1)) &&
               (quiet && kst[2] == K_RUNNING -> <> RUNS(2)) &&
               (quiet && kst[3] == K_RUNNING -> <> RUNS(3))) }

/* (c') while both CPUs stay online, every schedulable partition gets a CPU, whatever the
 * environment does to the other partitions (weak fairness: pan -f). Not with hot-plug going on
 * forever: an operator who keeps taking CPUs offline and online can starve a partition. */
#define STEADY(p) (kst[p] == K_RUNNING && online[0] && online[1])
ltl live_steady { [] ((STEADY(1) -> <> (RUNS(1) || !STEADY(1))) &&
                      (STEADY(2) -> <> (RUNS(2) || !STEADY(2))) &&
                      (STEADY(3) -> <> (RUNS(3) || !STEADY(3)))) }

/* ---- run-queue helpers (core/src/sched.c) -------------------------------------------------- */

/* heap_insert with a fresh sequence number (take_seq): the newest entry of every queue. */
inline queue_append(p, c) {
    qcpu[p] = c;
    ord[nq] = p;
    nq++
}

/* heap_remove_at: the others keep their sequence numbers, so their order. */
inline queue_remove(p) {
    found = 0;
    for (i : 0 .. NP - 1) {
        if
        :: i < nq && ord[i] == p -> found = 1
        :: else
        fi;
        if
        :: found == 1 && i + 1 < nq -> ord[i] = ord[i + 1]
        :: else
        fi
    };
    nq--;
    ord[nq] = 0;
    qcpu[p] = NONE
}

/* The head of cpu c's heap (prepare_switch reads c->ids[0]): with equal priorities the key order
 * is the sequence order, so it is c's oldest entry. */
inline queue_head(c, out) {
    out = 0;
    for (i : 0 .. NP - 1) {
        if
        :: out == 0 && i < nq && qcpu[ord[i]] == c -> out = ord[i]
        :: else
        fi
    }
}

/* pick_cpu(s, all CPUs, prefer = NO_CPU, NULL): least loaded online CPU, load = queue length +
 * 1 if it runs something, ties to the lowest index. Queues never fill (capacity >= NP). */
inline pick_cpu(out) {
    best = NONE;
    bestload = 255;
    for (j : 0 .. NC - 1) {
        load = (cur[j] != 0 -> 1 : 0);
        for (i : 0 .. NP - 1) {
            if
            :: i < nq && qcpu[ord[i]] == j -> load++
            :: else
            fi
        };
        if
        :: online[j] && load < bestload -> best = j; bestload = load
        :: else
        fi
    };
    out = best
}

/* ---- VMID helpers (core/src/vmid.c) -------------------------------------------------------- */

/* tlb_invalidate_vmid through the HAL: the TLB forgets v, except what a CPU whose VTTBR still
 * holds v can fill again at once. */
inline tlb_invalidate(vm) {
    tlb[vm] = 0;
    for (j : 0 .. NC - 1) {
        if
        :: vload[j] == vm -> TLB_ADD(vm, vpart[j])
        :: else
        fi
    }
}

/* rvm_vmid_activate(t, c, p): a valid binding is a hit; otherwise bind_new picks a slot with
 * choose_victim (clean free, else dirty free, else least recently activated owned; never one in
 * any CPU's VTTBR), invalidates it when dirty, moves the binding; then s2_activate. */
inline vmid_activate(c, p) {
    if
    :: VALID(p) -> v = bvmid[p]
    :: else ->
        /* choose_victim */
        v = 0;
        best = 0; /* first dirty free */
        for (i : 1 .. NV - 1) {
            if
            :: v == 0 && vload[0] != i && vload[1] != i && owner[i] == 0 && !dirty[i] -> v = i
            :: v == 0 && vload[0] != i && vload[1] != i && owner[i] == 0 && dirty[i] && best == 0 ->
                best = i
            :: else
            fi
        };
        if
        :: v == 0 && best != 0 -> v = best
        :: v == 0 && best == 0 ->
            for (i : 0 .. NV - 2) {
                if
                :: v == 0 && vload[0] != lru[i] && vload[1] != lru[i] && owner[lru[i]] != 0 ->
                    v = lru[i]
                :: else
                fi
            }
        :: else
        fi;
        assert(v != 0); /* RVM_ERR_VMID_BUSY cannot happen while ncpus < nvmids - 1 */
        /* bind_new */
#ifndef PLANTED_SKIP_FLUSH
        if
        :: dirty[v] -> tlb_invalidate(v)
        :: else
        fi;
#endif
        dirty[v] = 0;
        if
        :: owner[v] != 0 -> bvmid[owner[v]] = 0; bgen[owner[v]] = 0 /* reclaim */
        :: else
        fi;
        owner[v] = p;
        gen[v] = (gen[v] + 1) % NGEN;
        bvmid[p] = v;
        bgen[p] = gen[v]
    fi;
    /* s2_activate, then the bookkeeping after it */
    vload[c] = v;
    vpart[c] = p;
    TLB_ADD(v, p);
    dirty[v] = 1;
    /* last_used = ++clock: v becomes the most recently activated */
    found = 0;
    for (i : 0 .. NV - 2) {
        if
        :: lru[i] == v -> found = 1
        :: else
        fi;
        if
        :: found == 1 && i + 1 < NV - 1 -> lru[i] = lru[i + 1]
        :: else
        fi
    };
    lru[NV - 2] = v
}

/* ---- kernel entry points -------------------------------------------------------------------- */

/* rvm_kernel__run: placement (affinity = every CPU, so no move), then rvm_sched_enqueue of a
 * partition that is neither queued nor running (rvm_kernel__stop reset it): pick_cpu. */
inline kernel_run(p) {
    pick_cpu(to);
    queue_append(p, to)
}

/* rvm_kernel__stop: rvm_vcpu_park on the CPU that has it loaded, then rvm_sched_remove (off its
 * queue, off its CPU). The VTTBR keeps its VMID (rvm_vmid_table.loaded is unchanged). */
inline kernel_stop(p) {
    if
    :: cur[0] == p -> cur[0] = 0
    :: cur[1] == p -> cur[1] = 0
    :: else
    fi;
    if
    :: qcpu[p] != NONE -> queue_remove(p)
    :: else
    fi
}

/* rvm_kernel_schedule(k, c), the timer interrupt: re-queue the current partition on its own CPU
 * (rvm_sched_enqueue_on, fresh sequence number), prepare_switch takes the queue head; going idle
 * parks the vCPU; switching to another partition goes through rvm_vcpu_switch, which calls
 * rvm_vmid_activate when the partition loaded on the CPU changes; commit_switch. */
inline kernel_schedule(c) {
    if
    :: cur[c] != 0 && kst[cur[c]] == K_RUNNING -> queue_append(cur[c], c)
    :: else
    fi;
    queue_head(c, nx);
    if
    :: nx == 0 -> cur[c] = 0
    :: nx != 0 && nx == cur[c] -> queue_remove(nx)
    :: nx != 0 && nx != cur[c] ->
        queue_remove(nx);
        vmid_activate(c, nx);
        cur[c] = nx
    fi
}

/* rvm_kernel_cpu_offline: refused for an offline CPU or the last online one; park; commit_cpu
 * evacuates in id order what is queued on it (keeping its sequence number) or running on it
 * (queued afresh) to the least loaded remaining CPU, which with two CPUs is the other one;
 * rvm_vmid_cpu_offline empties its VTTBR. */
inline kernel_cpu_offline(c) {
    nx = cur[c];
    cur[c] = 0;
    online[c] = 0;
    for (j : 1 .. NP) {
        if
        :: qcpu[j] == c -> qcpu[j] = 1 - c
        :: else
        fi
    };
    if
    :: nx != 0 -> queue_append(nx, 1 - c)
    :: else
    fi;
    vload[c] = 0;
    vpart[c] = 0
}

/* ---- processes ------------------------------------------------------------------------------ */

proctype cpu(byte c) {
    do
    :: d_step { online[c] -> kernel_schedule(c) }
    od
}

/* rvm_kernel_partition_suspend (and _hibernate): append the record, rvm_kernel__stop */
inline suspend(p) {
    kernel_stop(p);
    kst[p] = K_SUSPENDED
}

/* rvm_kernel_partition_resume, and _create + _start on a free id: state RUNNING, rvm_kernel__run */
inline make_runnable(p) {
    kst[p] = K_RUNNING;
    kernel_run(p)
}

/* rvm_kernel__destroy_commit: rvm_kernel__stop, then rvm_vmid_prepare/commit_release (the slot is
 * freed, its generation moves on, it stays dirty); the id becomes free for reuse */
inline destroy(p) {
    kernel_stop(p);
    if
    :: VALID(p) ->
        owner[bvmid[p]] = 0;
        gen[bvmid[p]] = (gen[bvmid[p]] + 1) % NGEN;
        bvmid[p] = 0;
        bgen[p] = 0
    :: else
    fi;
    /* its translations belong to nobody alive now: a later partition with this id is another */
    for (j : 1 .. NV - 1) {
        if
        :: tlb[j] == p -> tlb[j] = GONE
        :: else
        fi
    };
    kst[p] = K_FREE
}

/* The operator and the guests: lifecycle and hot-plug requests in any order, until the
 * environment (nondeterministically) stops for good. Left out: the extra invalidations of an
 * unmap (rvm_kernel__tlb_flush) and of a core restart. They only ever empty a TLB, which nothing
 * but property (b) reads, so without them every violation of (b) is still reachable. */
proctype admin() {
    do
    :: d_step { !quiet && kst[1] == K_RUNNING -> suspend(1) }
    :: d_step { !quiet && kst[2] == K_RUNNING -> suspend(2) }
    :: d_step { !quiet && kst[3] == K_RUNNING -> suspend(3) }
    :: d_step { !quiet && (kst[1] == K_SUSPENDED || kst[1] == K_FREE) -> make_runnable(1) }
    :: d_step { !quiet && (kst[2] == K_SUSPENDED || kst[2] == K_FREE) -> make_runnable(2) }
    :: d_step { !quiet && (kst[3] == K_SUSPENDED || kst[3] == K_FREE) -> make_runnable(3) }
    :: d_step { !quiet && kst[1] != K_FREE -> destroy(1) }
    :: d_step { !quiet && kst[2] != K_FREE -> destroy(2) }
    :: d_step { !quiet && kst[3] != K_FREE -> destroy(3) }
    /* rvm_kernel_cpu_offline (refused for the last online CPU) / rvm_kernel_cpu_online */
    :: d_step { !quiet && online[0] && online[1] -> kernel_cpu_offline(0) }
    :: d_step { !quiet && online[1] && online[0] -> kernel_cpu_offline(1) }
    :: d_step { !quiet && !online[0] -> online[0] = 1 }
    :: d_step { !quiet && !online[1] -> online[1] = 1 }
    :: quiet = 1; break
    od
}

init {
    byte n;
    atomic {
        /* boot: both CPUs online and idle, every VMID free and clean (the boot code invalidated
         * the whole TLB), every partition started through rvm_kernel__run */
        online[0] = 1;
        online[1] = 1;
        for (i : 1 .. NP) {
            qcpu[i] = NONE
        };
        for (i : 0 .. NV - 2) {
            lru[i] = i + 1
        };
        for (n : 1 .. NP) {
            kst[n] = K_RUNNING;
            kernel_run(n)
        };
        run cpu(0);
        run cpu(1);
        run admin()
    }
}
