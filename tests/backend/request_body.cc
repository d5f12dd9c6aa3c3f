#include "tests/backend/request_body.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>

namespace tsync::refserver {
namespace {

constexpr size_t kFirstZstdReserve = 1u << 20;

}  // namespace

void PaddedBuffer::Reserve(size_t n) {
  if (n <= cap_ && buf_) return;
  // Padding bytes are zeroed: simdjson never needs them to be, but then no
  // tool can call a read of them uninitialised.
  std::unique_ptr<char[]> bigger(new char[n + simdjson::SIMDJSON_PADDING]);
  if (size_ > 0) std::memcpy(bigger.get(), buf_.get(), size_);
  std::memset(bigger.get() + n, 0, simdjson::SIMDJSON_PADDING);
  buf_ = std::move(bigger);
  cap_ = n;
}

void PaddedBuffer::Append(const char* p, size_t n) {
  if (n > spare() || !buf_) Reserve(std::max(size_ + n, cap_ * 2));
  std::memcpy(buf_.get() + size_, p, n);
  size_ += n;
}

BodyDecoder::BodyDecoder(bool zstd, size_t cap, size_t length_hint, PaddedBuffer* out)
    : zstd_(zstd), cap_(cap), out_(out) {
  out_->Clear();
  if (zstd_) {
    dctx_ = ZSTD_createDCtx();
    failed_ = dctx_ == nullptr;
  } else if (length_hint <= cap_) {
    out_->Reserve(length_hint);  // the only allocation for a plain body
  }
}

BodyDecoder::~BodyDecoder() { ZSTD_freeDCtx(dctx_); }

void BodyDecoder::Feed(const char* data, size_t n) {
  if (n > 0) saw_input_ = true;
  if (failed_) return;  // keep draining the connection, store nothing
  if (zstd_) return FeedZstd(data, n);
  if (out_->size() + n > cap_) {
    failed_ = true;
    return;
  }
  out_->Append(data, n);
}

void BodyDecoder::FeedZstd(const char* data, size_t n) {
  ZSTD_inBuffer in{data, n, 0};
  for (;;) {
    if (out_->spare() == 0) {
      // Grow up to cap + 1: one byte past the cap proves the body too big.
      const size_t limit = cap_ + 1;
      if (out_->size() >= limit) {
        failed_ = true;
        return;
      }
      size_t want = std::max<size_t>(kFirstZstdReserve, out_->size() * 2);
      if (!reserved_) {
        const unsigned long long declared = ZSTD_getFrameContentSize(data, n);
        if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR) {
          want = static_cast<size_t>(std::min<unsigned long long>(declared, limit));
          want = std::max<size_t>(want, 1);
        }
      }
      out_->Reserve(std::min(want, limit));
      reserved_ = true;
    }
    ZSTD_outBuffer o{out_->end(), out_->spare(), 0};
    const size_t r = ZSTD_decompressStream(dctx_, &o, &in);
    if (ZSTD_isError(r)) {
      failed_ = true;
      return;
    }
    out_->Commit(o.pos);
    if (out_->size() > cap_) {
      failed_ = true;
      return;
    }
    last_ = r;
    // Input used up, and the frame is complete or there was room left over:
    // the decoder has flushed all it can.
    if (in.pos == in.size && (r == 0 || o.pos < o.size)) return;
  }
}

bool BodyDecoder::Finish() {
  if (failed_) return false;
  if (!zstd_) return true;
  return saw_input_ && last_ == 0;  // a truncated frame leaves last_ != 0
}

ScratchPool::Lease ScratchPool::Take() {
  std::unique_ptr<ChunkScratch> s;
  {
    std::lock_guard lock(mu_);
    if (!free_.empty()) {
      s = std::move(free_.back());
      free_.pop_back();
    }
  }
  if (!s) {
    s = std::make_unique<ChunkScratch>();
    s->body.Reserve(capacity_ + 1);  // + 1: a zstd body one byte over the cap is detected in place
    s->lines.Reserve(capacity_);
    for (simdjson::dom::parser* p : {&s->body_parser, &s->line_parser}) {
      // parser.doc is public though documented as private: it is the only
      // way to size the document (tape, strings) once instead of per growth.
      if (p->allocate(capacity_) != simdjson::SUCCESS || p->doc.allocate(capacity_) != simdjson::SUCCESS) {
        *p = simdjson::dom::parser();  // out of memory: grow on demand instead
      }
    }
  }
  return Lease(s.release(), Return{this});
}

void ScratchPool::Give(ChunkScratch* s) {
  std::unique_ptr<ChunkScratch> owned(s);
  std::lock_guard lock(mu_);
  if (free_.size() < keep_) free_.push_back(std::move(owned));
}

bool IsJsonDocumentPadded(simdjson::dom::parser& parser, const char* data, size_t len) {
  simdjson::dom::element doc;
  return parser.parse(data, len, false).get(doc) == simdjson::SUCCESS;
}

}  // namespace tsync::refserver
