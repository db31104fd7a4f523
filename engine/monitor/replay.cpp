// SPDX-License-Identifier: MIT
#include "monitor/replay.hpp"

namespace rollback::monitor {

ReplayStats replay(decision::Evaluator& ev, const std::string& source,
                   std::vector<decision::Sample> samples, util::SystemTime first,
                   util::SystemTime last, util::Millis interval,
                   const std::function<void(const decision::Evaluation&)>& on_tick) {
    auto ms = [](util::SystemTime t) {
        return std::chrono::duration_cast<util::Millis>(t.time_since_epoch()).count();
    };
    const int64_t step = std::max<int64_t>(1, interval.count());
    const int64_t begin = ms(first);
    const int64_t end = ms(last);
    ReplayStats st;
    size_t next = 0;
    for (int64_t t = (begin + step - 1) / step * step; t <= end; t += step) {
        const util::SystemTime now{util::Millis(t)};
        while (next < samples.size() && samples[next].time <= now) {
            ev.add_sample(source, std::move(samples[next]));
            ++next;
        }
        on_tick(ev.evaluate(now));
        ++st.ticks;
    }
    st.samples = next;
    return st;
}

} // namespace rollback::monitor
