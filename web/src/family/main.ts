import { createApp } from 'vue'
import {
  Button, Cell, CellGroup, ConfigProvider, Dialog, Empty, Field, Form, Icon, List, Loading,
  NavBar, Notify, PullRefresh, Switch, Tab, Tabbar, TabbarItem, Tabs, Tag, Toast, Popup,
  Collapse, CollapseItem, Badge, Divider,
} from 'vant'
import 'vant/lib/index.css'
import './family.css'
import { i18n } from '@/i18n'
import { router } from './router'
import App from './App.vue'
import { whenUnauthorized } from '@/api/client'

const app = createApp(App)
for (const c of [
  Button, Cell, CellGroup, ConfigProvider, Dialog, Empty, Field, Form, Icon, List, Loading, NavBar,
  Notify, PullRefresh, Switch, Tab, Tabbar, TabbarItem, Tabs, Tag, Toast, Popup,
  Collapse, CollapseItem, Badge, Divider,
])
  app.use(c)
app.use(i18n).use(router)
whenUnauthorized(() => router.replace({ name: 'login' }))
app.mount('#app')
