// SPDX-License-Identifier: MIT
#include "monitor/replay.hpp"

namespace rollback::monitor {

ReplayStats replay(decision::Evaluator& ev, const std::string& source,
                   std::vector<decision::Sample> samples, util::SystemTime first,
                   util::SystemTime last, util::Millis interval,
                   const std::function<void(const decision::Evaluation&)>& on_tick,
                   const std::vector<Deploy>& deploys) {
    auto ms = [](util::SystemTime t) {
        return std::chrono::duration_cast<util::Millis>(t.time_since_epoch()).count();
    };
    const int64_t step = std::max<int64_t>(1, interval.count());
    const int64_t begin = ms(first);
    const int64_t end = ms(last);
    ReplayStats st;
    size_t next = 0, next_deploy = 0;
    for (int64_t t = (begin + step - 1) / step * step; t <= end; t += step) {
        const util::SystemTime now{util::Millis(t)};
        while (next < samples.size() && samples[next].time <= now) {
            ev.add_sample(source, std::move(samples[next]));
            ++next;
        }
        while (next_deploy < deploys.size() && deploys[next_deploy].time <= now) {
            ev.deployed(deploys[next_deploy].time, deploys[next_deploy].release);
            ++next_deploy;
        }
        on_tick(ev.evaluate(now));
        ++st.ticks;
    }
    st.samples = next;
    st.deploys = next_deploy;
    return st;
}

} // namespace rollback::monitor
