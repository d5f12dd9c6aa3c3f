// Request bodies decoded straight into memory that simdjson parses in place.
//
// The chunk route is the refserver's hot path (bench/upload_bench): a 14 MiB
// body used to be copied four times before it was stored (httplib's growing
// req.body, the decoded copy, simdjson's padded copy, one std::string per
// line). Here the body is decoded as it arrives into a buffer reserved once
// with SIMDJSON_PADDING to spare, parsed without a copy, and the lines are
// joined into one more such buffer where each line is validated in place.
// 1) PaddedBuffer: bytes with SIMDJSON_PADDING allocated past the end;
// 2) BodyDecoder: plain or zstd, streamed, refusing more than the decoded
//    cap (PROTOCOL.md "Size caps") while a zstd bomb costs at most the cap;
// 3) ScratchPool: those buffers and parsers kept between requests, so a
//    steady upload does not fault fresh pages in for every chunk.
// Thread-safety: PaddedBuffer and BodyDecoder are per request; ScratchPool
// locks internally.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include <simdjson.h>

struct ZSTD_DCtx_s;

namespace tsync::refserver {

/// Growable bytes, uninitialised past size(), always with SIMDJSON_PADDING
/// bytes allocated after size() so simdjson may parse any slice ending at
/// size() without copying it.
class PaddedBuffer {
 public:
  char* data() { return buf_.get(); }
  const char* data() const { return buf_.get(); }
  size_t size() const { return size_; }
  std::string_view view() const { return {buf_.get(), size_}; }
  /// Bytes that can be written at end() before the buffer must grow.
  size_t spare() const { return cap_ - size_; }
  char* end() { return buf_.get() + size_; }

  void Clear() { size_ = 0; }
  /// Room for `n` bytes in total (plus padding); keeps the content.
  void Reserve(size_t n);
  void Append(const char* p, size_t n);
  void Append(char c) { Append(&c, 1); }
  /// Counts `n` bytes written at end() (n <= spare()).
  void Commit(size_t n) { size_ += n; }

 private:
  std::unique_ptr<char[]> buf_;
  size_t size_ = 0;
  size_t cap_ = 0;  // usable bytes; the allocation is cap_ + SIMDJSON_PADDING
};

/// Decodes one request body as it arrives in pieces: verbatim, or zstd
/// (frames streamed into `out`, never more than cap + 1 bytes of output).
/// Feed() accepts every piece so the whole body is always read off the
/// connection; Finish() says whether it decoded completely within the cap.
class BodyDecoder {
 public:
  /// `length_hint` is the Content-Length (used to reserve once for plain bodies).
  BodyDecoder(bool zstd, size_t cap, size_t length_hint, PaddedBuffer* out);
  ~BodyDecoder();
  BodyDecoder(const BodyDecoder&) = delete;
  BodyDecoder& operator=(const BodyDecoder&) = delete;

  void Feed(const char* data, size_t n);
  bool Finish();

 private:
  void FeedZstd(const char* data, size_t n);

  const bool zstd_;
  const size_t cap_;
  PaddedBuffer* out_;
  ZSTD_DCtx_s* dctx_ = nullptr;
  bool failed_ = false;
  bool saw_input_ = false;
  bool reserved_ = false;  // zstd: the first reservation (from the frame header) is made
  size_t last_ = 1;  // ZSTD_decompressStream's last hint; 0 = frame complete
};

/// Everything one /sync/chunk request needs beyond the stack.
struct ChunkScratch {
  PaddedBuffer body;   // the decoded request body
  PaddedBuffer lines;  // the chunk's lines joined by '\n' (what is stored)
  simdjson::dom::parser body_parser;
  simdjson::dom::parser line_parser;  // one line at a time, in `lines`
};

/// A free list of ChunkScratch. Take() hands one out (a new one when none is
/// free); it goes back when the lease ends. A new one is sized once for
/// bodies of `capacity` bytes (address space only: pages are touched as they
/// are used), because growing by each new largest chunk would map and fault
/// fresh pages for most chunks of an upload. At most `keep` are kept.
class ScratchPool {
 public:
  ScratchPool(size_t keep, size_t capacity) : keep_(keep), capacity_(capacity) {}

  struct Return {
    ScratchPool* pool;
    void operator()(ChunkScratch* s) const { pool->Give(s); }
  };
  using Lease = std::unique_ptr<ChunkScratch, Return>;
  Lease Take();

 private:
  void Give(ChunkScratch* s);

  const size_t keep_;
  const size_t capacity_;
  std::mutex mu_;
  std::vector<std::unique_ptr<ChunkScratch>> free_;
};

/// True when data[0, len) is one JSON document. The bytes must have
/// SIMDJSON_PADDING allocated after them (a slice of a PaddedBuffer).
bool IsJsonDocumentPadded(simdjson::dom::parser& parser, const char* data, size_t len);

}  // namespace tsync::refserver
