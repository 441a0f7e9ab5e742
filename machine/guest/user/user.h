// The user-space API: system calls (usys.S) and the tiny libc (ulib.c, printf.c).
typedef unsigned char uint8;
typedef unsigned int uint;
typedef unsigned long uint64;

#define PGSIZE 4096
#define MAXVA (1L << 38)

// system calls
int fork(void);
void exit(int status) __attribute__((noreturn));
int wait(int *status);
int pipe(int fds[2]);
int read(int fd, void *buf, int n);
int write(int fd, const void *buf, int n);
int close(int fd);
int kill(int pid);
int exec(const char *path, char **argv);
int getpid(void);
char *sbrk(int n);
int freemem(void);           // free physical frames
int eatmem(int n);           // take up to n free frames until exit; returns how many
void halt(int code) __attribute__((noreturn));   // power off (QEMU exits with code)

// ulib.c
int strlen(const char *s);
int strcmp(const char *a, const char *b);
char *strcpy(char *dst, const char *src);
char *strchr(const char *s, int c);
void *memset(void *dst, int c, uint64 n);
void *memmove(void *dst, const void *src, uint64 n);
void *memcpy(void *dst, const void *src, uint64 n);
int memcmp(const void *a, const void *b, uint64 n);
int atoi(const char *s);

// printf.c: %d %u %x (with l), %p, %s, %c, %%; one write() per call.
void printf(const char *fmt, ...);
void fprintf(int fd, const char *fmt, ...);
