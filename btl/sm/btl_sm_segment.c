/* The shared segment a rank receives in: created in /dev/shm, placed on
 * the rank's NUMA node, unlinked once every local peer has mapped it. */
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "btl_sm.h"
#include "mrail/rte.h"

btl_sm_ring_t *btl_sm_segment_ring(void *seg, size_t ring_size, uint32_t index)
{
    char *base = (char *)seg + BTL_SM_CACHE_LINE; /* after the header's line */
    return (btl_sm_ring_t *)(base + (size_t)index * btl_sm_ring_bytes(ring_size));
}

/* Memory near the CPU the rank runs on (mrun binds ranks before exec). */
static void place_on_local_node(void *addr, size_t len)
{
    if (numa_available() < 0) {
        return;
    }
    int cpu = sched_getcpu();
    int node = cpu >= 0 ? numa_node_of_cpu(cpu) : -1;
    if (node >= 0) {
        numa_tonode_memory(addr, len, node);
    }
}

int btl_sm_segment_create(btl_sm_module_t *m, const char *job, uint32_t nlocal, mrail_reason_t *why)
{
    /* Job and rank in the name: the launcher can sweep what a crash left. */
    char rank[16];
    snprintf(rank, sizeof(rank), "%u", m->my_rank);
    if (mrail_rte_shm_name(m->seg_name, sizeof(m->seg_name), job, rank) != 0) {
        return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM,
                                "the job name %s is too long for a /dev/shm segment name", job);
    }
    m->seg_size = BTL_SM_CACHE_LINE + (size_t)nlocal * btl_sm_ring_bytes(m->cfg.ring_size) +
                  BTL_SM_SHARE_SLOTS * sizeof(btl_sm_share_t);
    /* /dev/shm is sparse: segments larger than its free space map fine
     * and kill a rank with SIGBUS when a message reaches the missing
     * pages. Every local rank makes one such segment, and none has touched
     * its pages yet, so the node's whole need is checked here. */
    struct statvfs fs;
    unsigned long long node_need = (unsigned long long)m->seg_size * nlocal;
    if (statvfs("/dev/shm", &fs) == 0 &&
        node_need > (unsigned long long)fs.f_bavail * fs.f_frsize) {
        return mrail_reason_set(
            why, MRAIL_ERR_OUT_OF_RESOURCE,
            "/dev/shm has %llu MiB free, and this node's %u ranks need %llu MiB of segments "
            "(%zu MiB each: %u rings of btl_sm_ring_size %zu bytes); lower btl_sm_ring_size or "
            "free /dev/shm",
            (unsigned long long)fs.f_bavail * fs.f_frsize >> 20, nlocal, node_need >> 20,
            m->seg_size >> 20, nlocal, m->cfg.ring_size);
    }
    int fd = shm_open(m->seg_name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        return mrail_reason_set(why, MRAIL_ERR_IO, "shm_open %s: %s", m->seg_name, strerror(errno));
    }
    if (ftruncate(fd, (off_t)m->seg_size) != 0) {
        int err = errno;
        close(fd);
        shm_unlink(m->seg_name);
        return mrail_reason_set(why, MRAIL_ERR_IO, "cannot size %s to %zu bytes: %s", m->seg_name,
                                m->seg_size, strerror(err));
    }
    m->seg = mmap(NULL, m->seg_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m->seg == MAP_FAILED) {
        m->seg = NULL;
        shm_unlink(m->seg_name);
        return mrail_reason_set(why, MRAIL_ERR_IO, "mmap %s: %s", m->seg_name, strerror(errno));
    }
    place_on_local_node(m->seg, m->seg_size);
    btl_sm_seg_header_t *h = m->seg;
    h->owner = m->my_rank;
    h->nrings = nlocal;
    h->ring_size = m->cfg.ring_size;
    h->magic = BTL_SM_MAGIC;
    m->shares = btl_sm_segment_shares(m->seg, m->cfg.ring_size, nlocal);
    return MRAIL_SUCCESS;
}

void *btl_sm_segment_attach(const char *name, size_t size, mrail_reason_t *why)
{
    int fd = shm_open(name, O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        mrail_reason_set(why, MRAIL_ERR_IO, "shm_open %s: %s", name, strerror(errno));
        return NULL;
    }
    void *seg = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (seg == MAP_FAILED) {
        mrail_reason_set(why, MRAIL_ERR_IO, "mmap %s: %s", name, strerror(errno));
        return NULL;
    }
    if (((btl_sm_seg_header_t *)seg)->magic != BTL_SM_MAGIC) {
        munmap(seg, size);
        mrail_reason_set(why, MRAIL_ERR_IO, "%s is not an mrail segment", name);
        return NULL;
    }
    return seg;
}

void btl_sm_segment_unlink(btl_sm_module_t *m)
{
    if (m->seg_name[0] != '\0') {
        shm_unlink(m->seg_name);
        m->seg_name[0] = '\0';
    }
}
