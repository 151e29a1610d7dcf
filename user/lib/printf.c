// Formatted output for user programs: printf (fd 1) and fprintf (any fd).
// Output is gathered in a buffer and written in as few write() calls as
// possible, so lines printed by concurrent processes rarely interleave.
#include <stdarg.h>
#include "user/user.h"

#define OUTBUF_SIZE 256

struct outbuf {
  int fd;
  int len;
  char data[OUTBUF_SIZE];
};

static void outbuf_flush(struct outbuf *out)
{
  if (out->len > 0)
    write(out->fd, out->data, out->len);
  out->len = 0;
}

static void outbuf_putc(struct outbuf *out, char c)
{
  if (out->len == OUTBUF_SIZE)
    outbuf_flush(out);
  out->data[out->len++] = c;
}

static void outbuf_pad(struct outbuf *out, int count, char pad)
{
  for (; count > 0; count--)
    outbuf_putc(out, pad);
}

// How a conversion was written: %[-0][width][l]x
struct conv_spec {
  int left;     // '-': pad on the right
  char pad;     // ' ' or '0'
  int width;
  int is_long;
};

static void emit_text(struct outbuf *out, const char *s, int len, const struct conv_spec *spec)
{
  int fill = spec->width - len;
  if (!spec->left)
    outbuf_pad(out, fill, spec->pad);
  for (int i = 0; i < len; i++)
    outbuf_putc(out, s[i]);
  if (spec->left)
    outbuf_pad(out, fill, ' ');
}

static void emit_number(struct outbuf *out, uint64 value, int base, int negative,
                        const struct conv_spec *spec)
{
  static const char digits[] = "0123456789abcdef";
  char text[24];
  int pos = sizeof(text);
  do {
    text[--pos] = digits[value % base];
    value /= base;
  } while (value != 0);
  if (negative && spec->pad == '0' && !spec->left) {
    // the sign goes before the zero padding
    struct conv_spec rest = *spec;
    outbuf_putc(out, '-');
    rest.width = spec->width > 0 ? spec->width - 1 : 0;
    emit_text(out, text + pos, sizeof(text) - pos, &rest);
    return;
  }
  if (negative)
    text[--pos] = '-';
  emit_text(out, text + pos, sizeof(text) - pos, spec);
}

// Parses flags, width and the 'l' modifier after '%'; returns the rest of fmt.
static const char *parse_spec(const char *fmt, struct conv_spec *spec)
{
  spec->left = 0;
  spec->pad = ' ';
  spec->width = 0;
  spec->is_long = 0;
  for (;; fmt++) {
    if (*fmt == '-')
      spec->left = 1;
    else if (*fmt == '0')
      spec->pad = '0';
    else
      break;
  }
  while (*fmt >= '0' && *fmt <= '9')
    spec->width = spec->width * 10 + (*fmt++ - '0');
  while (*fmt == 'l') {
    spec->is_long = 1;
    fmt++;
  }
  return fmt;
}

static void emit_signed(struct outbuf *out, const struct conv_spec *spec, va_list *ap)
{
  long v = spec->is_long ? va_arg(*ap, long) : va_arg(*ap, int);
  if (v < 0)
    emit_number(out, -(uint64)v, 10, 1, spec);
  else
    emit_number(out, (uint64)v, 10, 0, spec);
}

static void emit_unsigned(struct outbuf *out, const struct conv_spec *spec, int base, va_list *ap)
{
  uint64 v = spec->is_long ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned int);
  emit_number(out, v, base, 0, spec);
}

static void emit_conversion(struct outbuf *out, char conv, const struct conv_spec *spec,
                            va_list *ap)
{
  switch (conv) {
  case 'd':
    emit_signed(out, spec, ap);
    break;
  case 'u':
    emit_unsigned(out, spec, 10, ap);
    break;
  case 'x':
    emit_unsigned(out, spec, 16, ap);
    break;
  case 'p': {
    outbuf_putc(out, '0');
    outbuf_putc(out, 'x');
    struct conv_spec hex = { 0, '0', 16, 1 };
    emit_number(out, (uint64)va_arg(*ap, void *), 16, 0, &hex);
    break;
  }
  case 's': {
    const char *s = va_arg(*ap, const char *);
    if (s == 0)
      s = "(null)";
    emit_text(out, s, strlen(s), spec);
    break;
  }
  case 'c': {
    char c = (char)va_arg(*ap, int);
    emit_text(out, &c, 1, spec);
    break;
  }
  case '%':
    outbuf_putc(out, '%');
    break;
  default:
    // unknown conversion: show it as written
    outbuf_putc(out, '%');
    outbuf_putc(out, conv);
    break;
  }
}

static void format_to_fd(int fd, const char *fmt, va_list *ap)
{
  struct outbuf out;
  out.fd = fd;
  out.len = 0;
  while (*fmt) {
    if (*fmt != '%') {
      outbuf_putc(&out, *fmt++);
      continue;
    }
    struct conv_spec spec;
    fmt = parse_spec(fmt + 1, &spec);
    if (*fmt == 0)
      break;
    emit_conversion(&out, *fmt++, &spec, ap);
  }
  outbuf_flush(&out);
}

void fprintf(int fd, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  format_to_fd(fd, fmt, &ap);
  va_end(ap);
}

void printf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  format_to_fd(1, fmt, &ap);
  va_end(ap);
}
