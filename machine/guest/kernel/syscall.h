// System call numbers, shared with user/usys.S.
#define SYS_fork     1
#define SYS_exit     2
#define SYS_wait     3
#define SYS_pipe     4
#define SYS_read     5
#define SYS_write    6
#define SYS_close    7
#define SYS_kill     8
#define SYS_exec     9
#define SYS_getpid  10
#define SYS_sbrk    11
#define SYS_freemem 12   // number of free frames
#define SYS_eatmem  13   // set aside free frames until exit (to test out-of-memory)
#define SYS_halt    14   // power off through the test finisher
