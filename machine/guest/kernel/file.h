// Open files: the console or one end of a pipe.
struct file {
  enum { FD_NONE, FD_PIPE, FD_CONSOLE } type;
  int ref;
  char readable;
  char writable;
  struct pipe *pipe;
};
