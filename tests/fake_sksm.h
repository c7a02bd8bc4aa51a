// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A stand-in for the Selective KSM RFC kernel on a copy of the sksm-rfc fake
 * sysroot: a thread that reacts to completed writes of the control files the
 * way the RFC's store functions do. See tests/sysroots/README.md.
 */
#ifndef LIBKSM_FAKE_SKSM_H
#define LIBKSM_FAKE_SKSM_H

struct fake_sksm;

/* Give a copied sksm-rfc tree the RFC kernel's file modes where a test can
 * live with them: partition counters 0444, the rest of a partition 0644
 * (trigger_merge and trigger_unmerge included). The control files keep 0644
 * instead of the kernel's write-only 0220, so that tests can read back the
 * bytes written to them. */
void fake_sksm_modes(const char *root);

/*
 * Start playing the kernel for the tree at @root (aborts the test on failure):
 *  - a completed write to control/add_partition creates the partition named
 *    by all bytes but the last (the RFC takes count-1 bytes) with the
 *    attribute group of a fresh partition, built under a hidden name and
 *    renamed into place so that it appears complete; writes of 50 bytes or
 *    more, which the kernel refuses, are ignored;
 *  - a completed write to control/remove_partition removes the partition
 *    named by its first 31 non-blank characters ("%31s").
 */
struct fake_sksm *fake_sksm_start(const char *root);

/* Wait until @n control writes have been handled in all (aborts after 5 s). */
void fake_sksm_wait(struct fake_sksm *fk, int n);

/* Stop the thread and free; NULL is fine. */
void fake_sksm_stop(struct fake_sksm *fk);

/* Make @root and the session directory above it (tu_run_suite()'s
 * libksm-test-*) traversable by other users, for tests that switch to nobody. */
void fake_sksm_open_up(const char *root);

#endif
