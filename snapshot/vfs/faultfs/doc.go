// Package faultfs is an in-memory vfs.FS for tests that remembers what is
// durable and fails on demand.
//
// Durability model. Every file keeps two contents: what was written (what a
// read sees) and what was last made durable by File.Sync. Every folder keeps
// two listings: its current entries and the entries as of its last
// FS.SyncDir. A creation, rename or removal — of a file or of a folder made
// by MkdirAll — is therefore lost by a power loss until its parent folder is
// synced, exactly as on a POSIX filesystem that promises nothing more.
// PowerLoss rolls every folder back to its synced listing and every file back
// to its synced content; PowerLossWith lets a test choose what survives of the
// unsynced bytes (a torn write). Both, and Crash (the process dies but the
// operating system keeps what was written), make every open handle fail with
// ErrStale, since the process that held it is gone. Process returns a view
// of the filesystem for one incarnation of the code under test: after a
// crash every call through it fails with ErrStale too, so a run that is
// "dead" cannot create or rename files in the state the next run recovers.
//
// Faults, each armed by a call and consumed as it fires:
//
//	fsys := faultfs.New()
//	fsys.SetDiskFull(100)                    // ENOSPC after 100 more bytes, the write left partial
//	fsys.ShortWrite(3)                       // the next Write writes 3 bytes and returns io.ErrShortWrite
//	fsys.Fail(faultfs.OpSync, 1, syscall.EIO) // the next file Sync fails
//	fsys.Fail(faultfs.OpSyncDir, -1, err)    // every SyncDir fails until Heal
//	fsys.FailMatch(faultfs.OpRename, 1, err, func(name string) bool { return strings.HasSuffix(name, ".snap") })
//	fsys.SetSyncHook(func(name string) { <-release }) // a slow fsync: Sync blocks inside the hook
//	fsys.Heal()                              // disarm everything
//
// A typical power-loss test:
//
//	fsys := faultfs.New()
//	_ = fsys.MkdirAll("/data", 0o755)
//	_ = fsys.SyncDir("/")    // the folder itself is durable now
//	// ... run the code under test on fsys.Process(), note what it acknowledged ...
//	fsys.PowerLoss()
//	// ... reopen on a new fsys.Process() and check every acknowledged write is there ...
//
// Paths are slash-separated; relative paths are taken from the root "/".
// Every method is safe for concurrent use; the sync hook runs without the
// internal lock held, so it may block or call back into the FS.
package faultfs
