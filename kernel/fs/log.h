// The write-ahead log's interface inside fs/. log_begin_op/log_end_op are in
// fs/fs.h for the rest of the kernel. Owned by fs/log.c.
#pragma once
#include "uapi/types.h"

struct buf;
struct superblock;

// Replays a committed but uninstalled transaction, then opens the log.
void log_init(uint dev, const struct superblock *sb);
// Use instead of bio_write inside an op: records b (locked, changed) for the
// next commit and keeps it cached until then.
void log_write(struct buf *b);
